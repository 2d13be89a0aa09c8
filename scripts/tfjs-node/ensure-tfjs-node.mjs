#!/usr/bin/env node
// ensure-tfjs-node.mjs — make `require('@tensorflow/tfjs-node')` work without
// tfjs-node's own install script (which downloads libtensorflow from a host
// that may be unreachable).
//
// Run from the project root, after `npm install --ignore-scripts`:
//
//   node scripts/tfjs-node/ensure-tfjs-node.mjs
//
// 1. If tfjs-node already loads and runs an op in a child process: exit 0.
// 2. Otherwise: fetch the pinned `tensorflow-cpu` wheel from PyPI with pip
//    (cached in <root>/.cache/tfjs-node/), extract libtensorflow_cc.so.2,
//    libtensorflow_framework.so.2 and the C API headers, lay them out as
//    tfjs-node's binding.gyp expects (<pkg>/deps/{include,lib}), build the
//    addon with node-gyp against the local Node headers (no header download),
//    install it where tfjs-node looks for it (node-pre-gyp's module_path),
//    and verify it loads and runs native ops.
//
// Node built-ins only. Needs: python3 + pip (only for the first download),
// a C++ toolchain + make (only when the addon is not yet in the cache).
//
// Environment overrides:
//   TFJS_NODE_TF_VERSION  tensorflow-cpu version (default: pinned below)
//   TFJS_NODE_WHEEL       path to an already downloaded tensorflow-cpu wheel
//   TFJS_NODE_CACHE_DIR   cache folder (default: <root>/.cache/tfjs-node)
//   TFJS_NODE_FORCE=1     skip the "already works" check and the cached addon
//   TFJS_NODE_NODEDIR     Node headers prefix (dir containing include/node)
//   PYTHON                python executable used for pip / unzip / node-gyp

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

// ---------------------------------------------------------------------------
// Pins
// ---------------------------------------------------------------------------
// 2.16.2 is the newest release on which tfjs-core's whole test suite passes
// against this backend; 2.17+ return zeros from the Round kernel for integer
// inputs (upstream regression, tensorflow/tensorflow#74789). See NOTES.md.
const DEFAULT_TF_VERSION = '2.16.2';
// Wheel we ask pip for: the python tag does not matter (we only unzip it),
// but pinning it makes the download identical on every machine.
const WHEEL_PY_VERSION = '3.11';
const WHEEL_PLATFORMS = ['manylinux2014_x86_64', 'manylinux_2_27_x86_64', 'manylinux_2_17_x86_64'];
// sha256 of the exact wheels that were verified (see NOTES.md).
const KNOWN_WHEELS = {
  '2.16.2': {
    file: 'tensorflow_cpu-2.16.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
    sha256: 'c855cb6bf05d32dd5928086b03a5f6b4189b63c22b95e017703cbee4291023ca',
  },
  '2.20.0': {
    file: 'tensorflow_cpu-2.20.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
    sha256: 'cf756bbe2d256e942ab5d0ad2c858fb40017581494febdb4387c149b1afde780',
  },
  '2.21.0': {
    file: 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl',
    sha256: '2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c',
  },
};
// Members of the wheel we need. Headers: the closure of what binding/*.cc
// includes (c_api.h, eager/c_api.h, ctstring*.h and what they pull in).
const WHEEL_LIBS = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'];
// The tsl headers moved between releases (2.12: tensorflow/tsl/; 2.15:
// tsl/c + tsl/platform; 2.20: tsl/platform + xla/tsl/c), so take the tsl
// trees whole (a few MB); prefixes absent from a wheel are simply skipped.
const WHEEL_HEADER_PREFIXES = [
  'tensorflow/include/tensorflow/c/',
  'tensorflow/include/tensorflow/core/platform/',
  'tensorflow/include/tensorflow/tsl/',
  'tensorflow/include/tsl/',
  'tensorflow/include/xla/tsl/',
];

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------
const TAG = '[ensure-tfjs-node]';
const t0 = Date.now();
const secs = (since) => ((Date.now() - since) / 1000).toFixed(1) + 's';
const log = (msg) => console.log(`${TAG} ${msg}`);

class Fail extends Error {}
function fail(msg, detail) {
  const e = new Fail(msg);
  e.detail = detail;
  throw e;
}

function run(cmd, args, { cwd, logFile, env } = {}) {
  const res = spawnSync(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const out = (res.stdout || '') + (res.stderr || '');
  if (logFile) fs.writeFileSync(logFile, `$ ${cmd} ${args.join(' ')}\n${out}`);
  return { ok: !res.error && res.status === 0, status: res.status, error: res.error, out };
}

function tail(text, n = 40) {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

// For compiler output: the first error lines (the cause) plus the tail.
function errorsAndTail(text) {
  const errs = text.split('\n').filter((l) => /\berror\b/i.test(l) && !/^gyp (ERR|info)/.test(l)).slice(0, 15);
  return (errs.length ? errs.join('\n') + '\n...\n' : '') + tail(text, 15);
}

function sha256File(file) {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(8 * 1024 * 1024);
  try {
    let n;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

// Hard link when possible (cache and node_modules on one filesystem: no extra
// disk, instant); copy otherwise.
function linkOrCopy(src, dst) {
  fs.rmSync(dst, { force: true });
  try {
    fs.linkSync(src, dst);
  } catch {
    fs.copyFileSync(src, dst);
  }
}

// ---------------------------------------------------------------------------
// Load check (run in a child so a broken addon cannot take us down)
// ---------------------------------------------------------------------------
const CHECK_SNIPPET = `
const tf = require('@tensorflow/tfjs-node');
const backend = tf.getBackend();
if (backend !== 'tensorflow') throw new Error('backend is ' + backend);
const sq = Array.from(tf.tensor([1, 2, 3]).square().dataSync());
if (sq.join(',') !== '1,4,9') throw new Error('square gave ' + sq);
const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]);
const m = tf.moments(x, [0, 1, 2]);
const y = tf.batchNorm(x, m.mean, m.variance, undefined, undefined, 1e-3);
const c = tf.conv2d(x, tf.ones([1, 1, 2, 1]), 1, 'valid');
const s = Math.abs(tf.sum(y).dataSync()[0]);
if (!(s < 1e-4)) throw new Error('batchNorm sum ' + s);
if (c.dataSync()[3] !== 15) throw new Error('conv2d gave ' + c.dataSync());
console.log(JSON.stringify({ backend, tf: tf.engine().backend.binding.TF_Version, tfjs: tf.version['tfjs-node'] }));
`;

function checkLoads(root) {
  const res = run(process.execPath, ['-e', CHECK_SNIPPET], {
    cwd: root,
    env: { TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2' },
  });
  if (!res.ok) return { ok: false, out: res.out };
  const line = res.out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  try {
    return { ok: true, info: JSON.parse(line) };
  } catch {
    return { ok: false, out: res.out };
  }
}

// ---------------------------------------------------------------------------
// Steps
// ---------------------------------------------------------------------------
function findPackage(root) {
  const req = createRequire(path.join(root, 'package.json'));
  let pjPath;
  try {
    pjPath = req.resolve('@tensorflow/tfjs-node/package.json');
  } catch {
    fail(`@tensorflow/tfjs-node is not installed (not resolvable from ${root}).\n` +
      `  Run \`npm install --ignore-scripts\` first (this script must be run from the project root).`);
  }
  const pkgDir = path.dirname(pjPath);
  const pj = JSON.parse(fs.readFileSync(pjPath, 'utf8'));
  if (!fs.existsSync(path.join(pkgDir, 'binding.gyp'))) {
    fail(`${pkgDir} has no binding.gyp; cannot build the addon from source.`);
  }
  return { pkgDir, pjPath, pj };
}

// Where tfjs-node's dist/index.js looks for the addon: it calls
// node-pre-gyp's find(package.json). Ask it directly; fall back to doing the
// same computation (highest binary.napi_versions entry <= process.versions.napi).
function addonTarget(pkgDir, pjPath, pj) {
  const res = run(process.execPath, ['-e',
    `console.log(require('@mapbox/node-pre-gyp').find(${JSON.stringify(pjPath)}))`], { cwd: pkgDir });
  let file = res.ok ? res.out.trim().split('\n').pop() : '';
  const bin = pj.binary || {};
  const ours = Number(process.versions.napi);
  const napi = Math.max(0, ...(bin.napi_versions || []).filter((v) => v <= ours));
  if (!file || !path.isAbsolute(file)) {
    if (!napi || !bin.module_path) fail('cannot determine where tfjs-node looks for its addon');
    file = path.join(pkgDir, bin.module_path.replace('{napi_build_version}', String(napi)),
      `${bin.module_name}.node`);
  }
  const m = /napi-v(\d+)/.exec(file);
  return {
    file,
    moduleName: bin.module_name || path.basename(file, '.node'),
    modulePath: path.dirname(file),
    napiVersion: m ? Number(m[1]) : napi,
  };
}

function pythonCmd() {
  const candidates = process.env.PYTHON ? [process.env.PYTHON] : ['python3', 'python'];
  for (const py of candidates) {
    if (run(py, ['--version']).ok) return py;
  }
  fail('python3 not found (needed for pip and node-gyp). Install python3 + pip.');
}

function ensureWheel(cacheDir, tfVersion, py) {
  if (process.env.TFJS_NODE_WHEEL) {
    const w = path.resolve(process.env.TFJS_NODE_WHEEL);
    if (!fs.existsSync(w)) fail(`TFJS_NODE_WHEEL=${w} does not exist`);
    log(`using wheel from TFJS_NODE_WHEEL: ${w}`);
    return w;
  }
  const known = KNOWN_WHEELS[tfVersion];
  const existing = fs.readdirSync(cacheDir).filter(
    (f) => f.startsWith(`tensorflow_cpu-${tfVersion}-`) && f.endsWith('.whl'));
  const cached = known ? existing.find((f) => f === known.file) : existing[0];
  if (cached) {
    log(`wheel cached: ${cached}`);
    return path.join(cacheDir, cached);
  }
  const dlDir = path.join(cacheDir, `download.tmp-${process.pid}`);
  fs.rmSync(dlDir, { recursive: true, force: true });
  fs.mkdirSync(dlDir, { recursive: true });
  log(`downloading tensorflow-cpu==${tfVersion} wheel with pip (~215-275 MB) ...`);
  const t = Date.now();
  const args = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check',
    '--python-version', WHEEL_PY_VERSION, ...WHEEL_PLATFORMS.flatMap((p) => ['--platform', p]),
    '-d', dlDir, `tensorflow-cpu==${tfVersion}`];
  const logFile = path.join(cacheDir, 'pip-download.log');
  const res = run(py, args, { logFile });
  const got = fs.existsSync(dlDir) ? fs.readdirSync(dlDir).filter((f) => f.endsWith('.whl')) : [];
  if (!res.ok || got.length !== 1) {
    fs.rmSync(dlDir, { recursive: true, force: true });
    fail(`pip download of tensorflow-cpu==${tfVersion} failed (log: ${logFile})`, tail(res.out));
  }
  const wheel = path.join(cacheDir, got[0]);
  fs.renameSync(path.join(dlDir, got[0]), wheel);
  fs.rmSync(dlDir, { recursive: true, force: true });
  log(`downloaded ${got[0]} (${(fs.statSync(wheel).size / 1e6).toFixed(0)} MB) in ${secs(t)}`);
  return wheel;
}

function checkWheelHash(wheel, tfVersion) {
  const known = KNOWN_WHEELS[tfVersion];
  if (!known || path.basename(wheel) !== known.file) {
    log(`note: no pinned sha256 for ${path.basename(wheel)}; skipping hash check`);
    return;
  }
  const h = sha256File(wheel);
  if (h !== known.sha256) {
    fs.rmSync(wheel, { force: true });
    fail(`sha256 mismatch for ${known.file}: got ${h}, expected ${known.sha256} (deleted; rerun to re-download)`);
  }
}

// Marker written after a successful extraction; it records what was
// extracted so that a change of WHEEL_* above triggers a re-extraction.
const EXTRACT_MARKER = '.extracted.json';
const extractManifest = () => JSON.stringify({ libs: WHEEL_LIBS, headers: WHEEL_HEADER_PREFIXES });
function extractedComplete(dir) {
  try {
    return fs.readFileSync(path.join(dir, EXTRACT_MARKER), 'utf8') === extractManifest() &&
      WHEEL_LIBS.every((l) => fs.existsSync(path.join(dir, 'lib', l))) &&
      fs.existsSync(path.join(dir, 'include', 'tensorflow', 'c', 'eager', 'c_api.h'));
  } catch {
    return false;
  }
}

// Extract the two shared libraries and the needed headers into
// <cache>/tf-<version>/{lib,include}. Uses python's zipfile (always there when
// pip is), so no dependency on `unzip`.
function ensureExtracted(cacheDir, tfVersion, wheel, py) {
  const dest = path.join(cacheDir, `tf-${tfVersion}`);
  const complete = () => extractedComplete(dest);
  if (complete()) {
    log(`libtensorflow already extracted: ${dest}`);
    return dest;
  }
  checkWheelHash(wheel, tfVersion);
  log(`extracting libtensorflow + C headers from ${path.basename(wheel)} ...`);
  const t = Date.now();
  const tmp = `${dest}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const script = `
import sys, os, zipfile, shutil
whl, out, libs, prefixes = sys.argv[1], sys.argv[2], sys.argv[3].split(','), sys.argv[4].split(',')
z = zipfile.ZipFile(whl)
names = set(z.namelist())
for lib in libs:
    m = 'tensorflow/' + lib
    if m not in names:
        sys.exit('wheel has no ' + m)
    os.makedirs(os.path.join(out, 'lib'), exist_ok=True)
    with z.open(m) as src, open(os.path.join(out, 'lib', lib), 'wb') as dst:
        shutil.copyfileobj(src, dst, 16 << 20)
n = 0
for m in names:
    if m.endswith('/') or not any(m.startswith(p) for p in prefixes):
        continue
    rel = m[len('tensorflow/include/'):]
    p = os.path.join(out, 'include', rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with z.open(m) as src, open(p, 'wb') as dst:
        shutil.copyfileobj(src, dst)
    n += 1
print('headers', n)
`;
  const res = run(py, ['-c', script, wheel, tmp, WHEEL_LIBS.join(','), WHEEL_HEADER_PREFIXES.join(',')]);
  if (!res.ok) {
    fs.rmSync(tmp, { recursive: true, force: true });
    fail(`extracting ${wheel} failed (corrupt download? delete it and rerun)`, tail(res.out));
  }
  fs.writeFileSync(path.join(tmp, EXTRACT_MARKER), extractManifest());
  fs.rmSync(dest, { recursive: true, force: true });
  fs.renameSync(tmp, dest);
  if (!complete()) fail(`extraction incomplete in ${dest}`);
  log(`extracted (${res.out.trim()}) in ${secs(t)}`);
  return dest;
}

// binding.gyp (linux): include_dirs <pkg>/deps/include; library_dirs
// <pkg>/deps/lib; links -ltensorflow -ltensorflow_framework; rpath
// $ORIGIN/../../deps/lib (relative to lib/napi-vN/tfjs_binding.node).
// -ltensorflow resolves via the libtensorflow.so symlink to
// libtensorflow_cc.so.2, whose SONAME (libtensorflow_cc.so.2) is what the
// addon records as NEEDED, so the real file must keep that name.
function layoutDeps(pkgDir, tfDir) {
  const deps = path.join(pkgDir, 'deps');
  fs.rmSync(deps, { recursive: true, force: true });
  fs.mkdirSync(path.join(deps, 'lib'), { recursive: true });
  for (const lib of WHEEL_LIBS) linkOrCopy(path.join(tfDir, 'lib', lib), path.join(deps, 'lib', lib));
  fs.symlinkSync('libtensorflow_cc.so.2', path.join(deps, 'lib', 'libtensorflow.so'));
  fs.symlinkSync('libtensorflow_cc.so.2', path.join(deps, 'lib', 'libtensorflow.so.2'));
  fs.symlinkSync('libtensorflow_framework.so.2', path.join(deps, 'lib', 'libtensorflow_framework.so'));
  fs.cpSync(path.join(tfDir, 'include'), path.join(deps, 'include'), { recursive: true });
  log(`laid out ${deps}/{lib,include}`);
}

function nodeHeadersDir() {
  const candidates = [process.env.TFJS_NODE_NODEDIR, process.env.npm_config_nodedir,
    path.dirname(path.dirname(process.execPath))].filter(Boolean);
  const want = process.version.slice(1);
  for (const dir of candidates) {
    const vh = path.join(dir, 'include', 'node', 'node_version.h');
    if (!fs.existsSync(vh) || !fs.existsSync(path.join(dir, 'include', 'node', 'node_api.h'))) continue;
    const src = fs.readFileSync(vh, 'utf8');
    const v = ['MAJOR', 'MINOR', 'PATCH'].map((k) => (new RegExp(`#define NODE_${k}_VERSION (\\d+)`).exec(src) || [])[1]).join('.');
    if (v === want) return dir;
    log(`note: ${vh} is for node ${v}, running node is ${want}; skipping`);
  }
  fail(`no Node ${process.version} headers found (looked for include/node/node_api.h under: ${candidates.join(', ')}).\n` +
    '  node-gyp would try to download them, which needs the nodejs.org host. Install the headers\n' +
    '  (e.g. the distro\'s nodejs dev package) or set TFJS_NODE_NODEDIR to a prefix containing include/node.');
}

function nodeGypCommand(root) {
  const tries = [];
  try {
    tries.push(createRequire(path.join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch { /* not a project dependency */ }
  const npmRoots = [path.join(path.dirname(path.dirname(process.execPath)), 'lib', 'node_modules')];
  const g = run('npm', ['root', '-g']);
  if (g.ok) npmRoots.push(g.out.trim().split('\n').pop());
  for (const r of npmRoots) tries.push(path.join(r, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const found = tries.find((p) => fs.existsSync(p));
  if (found) return { cmd: process.execPath, pre: [found], label: found };
  // Last resort: node-gyp from the npm registry.
  return { cmd: 'npx', pre: ['--yes', 'node-gyp@12'], label: 'npx node-gyp@12' };
}

function buildAddon(root, pkgDir, target, cacheDir) {
  const nodedir = nodeHeadersDir();
  const gyp = nodeGypCommand(root);
  log(`building addon with node-gyp (${gyp.label}), headers from ${nodedir}/include/node ...`);
  const t = Date.now();
  const logFile = path.join(cacheDir, 'node-gyp-build.log');
  const args = [...gyp.pre, 'rebuild', `--nodedir=${nodedir}`, `--jobs=${Math.max(1, os.cpus().length)}`,
    `--module_name=${target.moduleName}`, `--module_path=${target.modulePath}`,
    `--napi_build_version=${target.napiVersion}`];
  if (process.env.PYTHON) args.push(`--python=${process.env.PYTHON}`);
  const res = run(gyp.cmd, args, { cwd: pkgDir, logFile });
  if (!res.ok) fail(`node-gyp build failed (full log: ${logFile})`, errorsAndTail(res.out));
  if (!fs.existsSync(target.file)) {
    // binding.gyp's action_after_build copies into module_path; do it ourselves if it didn't.
    const built = path.join(pkgDir, 'build', 'Release', `${target.moduleName}.node`);
    if (!fs.existsSync(built)) fail(`node-gyp succeeded but produced no ${built} (log: ${logFile})`);
    fs.mkdirSync(target.modulePath, { recursive: true });
    fs.copyFileSync(built, target.file);
  }
  log(`built in ${secs(t)} -> ${path.relative(root, target.file)}`);
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------
function main() {
  const root = process.cwd();
  const force = process.env.TFJS_NODE_FORCE === '1';
  const { pkgDir, pjPath, pj } = findPackage(root);

  if (!force) {
    const c = checkLoads(root);
    if (c.ok) {
      log(`@tensorflow/tfjs-node ${c.info.tfjs} already works (backend ${c.info.backend}, libtensorflow ${c.info.tf}) [${secs(t0)}]`);
      return;
    }
    log('@tensorflow/tfjs-node does not load yet; setting it up from the tensorflow-cpu wheel');
  }

  if (process.platform !== 'linux' || process.arch !== 'x64') {
    fail(`unsupported platform ${process.platform}-${process.arch}: this fallback only handles linux-x64 ` +
      '(tensorflow-cpu manylinux wheel).');
  }

  const tfVersion = process.env.TFJS_NODE_TF_VERSION || DEFAULT_TF_VERSION;
  const cacheDir = path.resolve(process.env.TFJS_NODE_CACHE_DIR || path.join(root, '.cache', 'tfjs-node'));
  fs.mkdirSync(cacheDir, { recursive: true });
  const target = addonTarget(pkgDir, pjPath, pj);
  log(`tfjs-node ${pj.version} at ${pkgDir}`);
  log(`tensorflow-cpu ${tfVersion}, N-API v${target.napiVersion}, cache ${cacheDir}`);

  // libtensorflow: wheel -> extracted libs/headers (both cached) -> <pkg>/deps
  let tfDir = path.join(cacheDir, `tf-${tfVersion}`);
  if (!extractedComplete(tfDir)) {
    const py = pythonCmd();
    const wheel = ensureWheel(cacheDir, tfVersion, py);
    tfDir = ensureExtracted(cacheDir, tfVersion, wheel, py);
  } else {
    log(`libtensorflow already extracted: ${tfDir}`);
  }
  layoutDeps(pkgDir, tfDir);

  // Addon: reuse a previously built one (N-API => independent of the Node
  // version), else build with node-gyp.
  const cachedAddon = path.join(cacheDir,
    `${target.moduleName}-tfjs-node${pj.version}-tf${tfVersion}-napi${target.napiVersion}-${process.platform}-${process.arch}.node`);
  let usedCache = false;
  if (!force && fs.existsSync(cachedAddon)) {
    fs.mkdirSync(target.modulePath, { recursive: true });
    fs.copyFileSync(cachedAddon, target.file);
    log(`installed cached addon ${path.basename(cachedAddon)}`);
    usedCache = true;
  } else {
    fs.rmSync(target.file, { force: true });
    buildAddon(root, pkgDir, target, cacheDir);
  }

  let c = checkLoads(root);
  if (!c.ok && usedCache) {
    log('cached addon does not load; rebuilding');
    fs.rmSync(cachedAddon, { force: true });
    buildAddon(root, pkgDir, target, cacheDir);
    c = checkLoads(root);
  }
  if (!c.ok) fail('the built addon does not load / run ops', tail(c.out));
  if (!usedCache) fs.copyFileSync(target.file, cachedAddon);
  log(`OK: @tensorflow/tfjs-node ${c.info.tfjs} works (backend ${c.info.backend}, libtensorflow ${c.info.tf}) [total ${secs(t0)}]`);
}

try {
  main();
} catch (e) {
  if (e instanceof Fail) {
    console.error(`${TAG} ERROR: ${e.message}`);
    if (e.detail) console.error(`${TAG} ---- output (tail) ----\n${e.detail}\n${TAG} -----------------------`);
  } else {
    console.error(`${TAG} ERROR (unexpected):`, e);
  }
  process.exit(1);
}
