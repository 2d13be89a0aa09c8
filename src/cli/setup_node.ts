/**
 * `tfjs-norms setup-node`: makes `require('@tensorflow/tfjs-node')` (or `-gpu`) work where its
 * own install script cannot download libtensorflow (an offline or firewalled machine, or
 * `npm install --ignore-scripts`).
 *
 * 1. If the package already loads and runs ops (checked in a child process): done.
 * 2. Otherwise: fetch the pinned TensorFlow wheel from PyPI with pip (`tensorflow-cpu`; the
 *    CUDA-enabled `tensorflow` for -gpu), cached; extract libtensorflow_cc.so.2,
 *    libtensorflow_framework.so.2 and the C API headers; lay them out as the package's
 *    binding.gyp expects (`<pkg>/deps/{include,lib}`); build the addon with node-gyp against
 *    the local Node headers (no header download); install it where the package looks for it
 *    (node-pre-gyp's module_path); check that it loads and runs native ops.
 *
 * Node built-ins only. Needs python3 with pip (first download only), g++ and make (when no
 * built addon is cached) and Node's headers. Linux x64 only (the manylinux wheels).
 */
import {spawnSync} from 'node:child_process';
import {createHash} from 'node:crypto';
import fs from 'node:fs';
import {createRequire} from 'node:module';
import os from 'node:os';
import path from 'node:path';

/** 2.16.2: the newest release on which tfjs-core's suite passes on this backend (see docs/tensorflow.md). */
export const DEFAULT_TF_VERSION = '2.16.2';
// The python tag does not matter (the wheel is only unzipped); pinning it makes the download
// the same on every machine.
const WHEEL_PY_VERSION = '3.11';
const WHEEL_PLATFORMS = ['manylinux2014_x86_64', 'manylinux_2_27_x86_64', 'manylinux_2_17_x86_64'];
/** sha256 of the wheels that were verified. */
const KNOWN_WHEELS: Record<string, {file: string; sha256: string}> = {
  'tensorflow-cpu==2.16.2': {
    file: 'tensorflow_cpu-2.16.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
    sha256: 'c855cb6bf05d32dd5928086b03a5f6b4189b63c22b95e017703cbee4291023ca',
  },
  'tensorflow-cpu==2.20.0': {
    file: 'tensorflow_cpu-2.20.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
    sha256: 'cf756bbe2d256e942ab5d0ad2c858fb40017581494febdb4387c149b1afde780',
  },
  'tensorflow-cpu==2.21.0': {
    file: 'tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl',
    sha256: '2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c',
  },
};
const WHEEL_LIBS = ['libtensorflow_cc.so.2', 'libtensorflow_framework.so.2'];
// What binding/*.cc includes, transitively; the tsl headers moved between releases, so the
// trees are taken whole and prefixes absent from a wheel are skipped.
const WHEEL_HEADER_PREFIXES = [
  'tensorflow/include/tensorflow/c/',
  'tensorflow/include/tensorflow/core/platform/',
  'tensorflow/include/tensorflow/tsl/',
  'tensorflow/include/tsl/',
  'tensorflow/include/xla/tsl/',
];

export interface SetupNodeOptions {
  /** Project folder the package is resolved from. Default: the current folder. */
  root?: string;
  /** Set up `@tensorflow/tfjs-node-gpu` with the CUDA-enabled libtensorflow. */
  gpu?: boolean;
  /** Only report whether the package loads; change nothing. */
  check?: boolean;
  /** Rebuild even if the package loads or a built addon is cached. */
  force?: boolean;
  tfVersion?: string;
  /** An already downloaded wheel (skips pip). */
  wheel?: string;
  cacheDir?: string;
  /** Prefix holding include/node (Node's headers). */
  nodedir?: string;
  python?: string;
  log?: (line: string) => void;
  /** Where the NVIDIA driver reports its version (tests point it elsewhere). */
  nvidiaProc?: string;
}

export interface SetupNodeResult {
  packageName: string;
  /** 'works': it already loaded; 'built': set up now; 'cached': set up from the cache. */
  status: 'works' | 'built' | 'cached';
  info: {backend: string; tf: string; tfjs: string};
}

/** A step that cannot be done here, with the tool output that shows why. */
export class SetupNodeError extends Error {
  constructor(message: string, readonly detail?: string) {
    super(message);
    this.name = 'SetupNodeError';
  }
}

const fail = (msg: string, detail?: string): never => {
  throw new SetupNodeError(msg, detail);
};

interface RunResult {ok: boolean; out: string}

function run(cmd: string, args: string[], opts: {cwd?: string; logFile?: string; env?: Record<string, string>} = {}): RunResult {
  const res = spawnSync(cmd, args, {
    cwd: opts.cwd, env: {...process.env, ...opts.env}, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024,
  });
  const out = (res.stdout || '') + (res.stderr || '');
  if (opts.logFile) fs.writeFileSync(opts.logFile, `$ ${cmd} ${args.join(' ')}\n${out}`);
  return {ok: !res.error && res.status === 0, out};
}

const tail = (text: string, n = 40) => text.trimEnd().split('\n').slice(-n).join('\n');

/** Compiler output: the first error lines (the cause) and the tail. */
function errorsAndTail(text: string): string {
  const errs = text.split('\n').filter((l) => /\berror\b/i.test(l) && !/^gyp (ERR|info)/.test(l)).slice(0, 15);
  return (errs.length ? errs.join('\n') + '\n...\n' : '') + tail(text, 15);
}

function sha256File(file: string): string {
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

/** Hard link when cache and node_modules share a filesystem (no extra disk); copy otherwise. */
function linkOrCopy(src: string, dst: string): void {
  fs.rmSync(dst, {force: true});
  try {
    fs.linkSync(src, dst);
  } catch {
    fs.copyFileSync(src, dst);
  }
}

/** Loads the package in a child process (a broken addon cannot take this one down) and runs ops. */
function checkLoads(root: string, packageName: string): {ok: true; info: SetupNodeResult['info']} | {ok: false; out: string} {
  const snippet = `
const tf = require(${JSON.stringify(packageName)});
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
console.log(JSON.stringify({backend, tf: tf.engine().backend.binding.TF_Version, tfjs: tf.version['tfjs-node']}));
`;
  const res = run(process.execPath, ['-e', snippet], {cwd: root, env: {TF_CPP_MIN_LOG_LEVEL: process.env.TF_CPP_MIN_LOG_LEVEL ?? '2'}});
  if (!res.ok) return {ok: false, out: res.out};
  const line = res.out.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? '';
  try {
    return {ok: true, info: JSON.parse(line)};
  } catch {
    return {ok: false, out: res.out};
  }
}

interface Pkg {pkgDir: string; pjPath: string; pj: {version: string; binary?: {module_name?: string; module_path?: string; napi_versions?: number[]}}}

function findPackage(root: string, packageName: string): Pkg {
  const req = createRequire(path.join(root, 'package.json'));
  let pjPath = '';
  try {
    pjPath = req.resolve(`${packageName}/package.json`);
  } catch {
    fail(`${packageName} is not installed (not resolvable from ${root}). Install it first, without its ` +
      `download step: \`npm install ${packageName} --ignore-scripts\`, then run this command from that project's folder.`);
  }
  const pkgDir = path.dirname(pjPath);
  const pj = JSON.parse(fs.readFileSync(pjPath, 'utf8'));
  if (!fs.existsSync(path.join(pkgDir, 'binding.gyp'))) fail(`${pkgDir} has no binding.gyp: cannot build its addon from source.`);
  return {pkgDir, pjPath, pj};
}

interface Target {file: string; moduleName: string; modulePath: string; napiVersion: number}

/**
 * Where the package looks for its addon (node-pre-gyp's find(package.json)); computed the same
 * way (highest napi_versions entry <= this Node's) when node-pre-gyp is not there.
 */
function addonTarget({pkgDir, pjPath, pj}: Pkg): Target {
  const res = run(process.execPath, ['-e', `console.log(require('@mapbox/node-pre-gyp').find(${JSON.stringify(pjPath)}))`], {cwd: pkgDir});
  let file = res.ok ? res.out.trim().split('\n').pop() ?? '' : '';
  const bin = pj.binary ?? {};
  const ours = Number(process.versions.napi);
  const napi = Math.max(0, ...(bin.napi_versions ?? []).filter((v) => v <= ours));
  if (!file || !path.isAbsolute(file)) {
    if (!napi || !bin.module_path || !bin.module_name) fail(`cannot tell where ${pjPath} looks for its addon (no "binary" section)`);
    file = path.join(pkgDir, bin.module_path!.replace('{napi_build_version}', String(napi)), `${bin.module_name}.node`);
  }
  const m = /napi-v(\d+)/.exec(file);
  return {file, moduleName: bin.module_name ?? path.basename(file, '.node'), modulePath: path.dirname(file), napiVersion: m ? Number(m[1]) : napi};
}

function pythonWithPip(python?: string): string {
  const candidates = python ? [python] : ['python3', 'python'];
  for (const py of candidates) {
    if (!run(py, ['--version']).ok) continue;
    if (!run(py, ['-m', 'pip', '--version']).ok) {
      fail(`${py} has no pip (needed once, to download the TensorFlow wheel from PyPI). Install pip ` +
        '(Debian/Ubuntu: apt-get install python3-pip), or pass --wheel <file> with a downloaded wheel.');
    }
    return py;
  }
  return fail(`${candidates.join(' / ')} not found: python3 with pip is needed once, to download the TensorFlow wheel ` +
    'from PyPI and unzip it (Debian/Ubuntu: apt-get install python3 python3-pip).');
}

/** The compiler and make that node-gyp needs, checked before any download. */
function checkToolchain(): void {
  const cxx = process.env.CXX || 'g++';
  if (!run(cxx, ['--version']).ok) {
    fail(`no C++ compiler (${cxx}) found: building the addon needs g++ and make ` +
      '(Debian/Ubuntu: apt-get install g++ make; or set CXX).');
  }
  if (!run('make', ['--version']).ok) fail('make not found: building the addon needs it (Debian/Ubuntu: apt-get install make).');
}

function ensureWheel(cacheDir: string, requirement: string, py: string, log: (s: string) => void): string {
  const known = KNOWN_WHEELS[requirement];
  const [dist, version] = requirement.split('==');
  const prefix = `${dist.replace(/-/g, '_')}-${version}-`;
  const existing = fs.readdirSync(cacheDir).filter((f) => f.startsWith(prefix) && f.endsWith('.whl'));
  const cached = known ? existing.find((f) => f === known.file) : existing[0];
  if (cached) {
    log(`wheel cached: ${cached}`);
    return path.join(cacheDir, cached);
  }
  const dlDir = path.join(cacheDir, `download.tmp-${process.pid}`);
  fs.rmSync(dlDir, {recursive: true, force: true});
  fs.mkdirSync(dlDir, {recursive: true});
  log(`downloading the ${requirement} wheel with pip (200-600 MB) ...`);
  const args = ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check',
    '--python-version', WHEEL_PY_VERSION, ...WHEEL_PLATFORMS.flatMap((p) => ['--platform', p]), '-d', dlDir, requirement];
  const logFile = path.join(cacheDir, 'pip-download.log');
  const res = run(py, args, {logFile});
  const got = fs.existsSync(dlDir) ? fs.readdirSync(dlDir).filter((f) => f.endsWith('.whl')) : [];
  if (!res.ok || got.length !== 1) {
    fs.rmSync(dlDir, {recursive: true, force: true});
    fail(`pip download of ${requirement} failed (is PyPI reachable? log: ${logFile})`, tail(res.out));
  }
  const wheel = path.join(cacheDir, got[0]);
  fs.renameSync(path.join(dlDir, got[0]), wheel);
  fs.rmSync(dlDir, {recursive: true, force: true});
  return wheel;
}

function checkWheelHash(wheel: string, requirement: string, log: (s: string) => void): void {
  const known = KNOWN_WHEELS[requirement];
  if (!known || path.basename(wheel) !== known.file) {
    // pip checked PyPI's hash over HTTPS when it downloaded it.
    log(`note: no pinned sha256 for ${path.basename(wheel)}`);
    return;
  }
  const h = sha256File(wheel);
  if (h !== known.sha256) {
    fs.rmSync(wheel, {force: true});
    fail(`sha256 mismatch for ${known.file}: got ${h}, expected ${known.sha256} (deleted; rerun to download it again)`);
  }
}

const EXTRACT_MARKER = '.extracted.json';
const extractManifest = () => JSON.stringify({libs: WHEEL_LIBS, headers: WHEEL_HEADER_PREFIXES});

function extractedComplete(dir: string): boolean {
  try {
    return fs.readFileSync(path.join(dir, EXTRACT_MARKER), 'utf8') === extractManifest() &&
      WHEEL_LIBS.every((l) => fs.existsSync(path.join(dir, 'lib', l))) &&
      fs.existsSync(path.join(dir, 'include', 'tensorflow', 'c', 'eager', 'c_api.h'));
  } catch {
    return false;
  }
}

/** The two libraries and the headers into `dest`/{lib,include}, with python's zipfile (no `unzip` needed). */
function extractWheel(wheel: string, dest: string, requirement: string, py: string, log: (s: string) => void): void {
  checkWheelHash(wheel, requirement, log);
  log(`extracting libtensorflow and the C headers from ${path.basename(wheel)} ...`);
  const tmp = `${dest}.tmp-${process.pid}`;
  fs.rmSync(tmp, {recursive: true, force: true});
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
for m in names:
    if m.endswith('/') or not any(m.startswith(p) for p in prefixes):
        continue
    p = os.path.join(out, 'include', m[len('tensorflow/include/'):])
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with z.open(m) as src, open(p, 'wb') as dst:
        shutil.copyfileobj(src, dst)
`;
  const res = run(py, ['-c', script, wheel, tmp, WHEEL_LIBS.join(','), WHEEL_HEADER_PREFIXES.join(',')]);
  if (!res.ok) {
    fs.rmSync(tmp, {recursive: true, force: true});
    fail(`extracting ${wheel} failed (a corrupt download? delete it and rerun)`, tail(res.out));
  }
  fs.writeFileSync(path.join(tmp, EXTRACT_MARKER), extractManifest());
  fs.rmSync(dest, {recursive: true, force: true});
  fs.renameSync(tmp, dest);
  if (!extractedComplete(dest)) fail(`extraction incomplete in ${dest}`);
}

/**
 * binding.gyp (linux) includes <pkg>/deps/include, links -ltensorflow -ltensorflow_framework
 * from <pkg>/deps/lib with rpath $ORIGIN/../../deps/lib. -ltensorflow resolves through the
 * libtensorflow.so link to libtensorflow_cc.so.2, whose SONAME the addon records, so the real
 * file keeps that name.
 */
function layoutDeps(pkgDir: string, tfDir: string): void {
  const deps = path.join(pkgDir, 'deps');
  fs.rmSync(deps, {recursive: true, force: true});
  fs.mkdirSync(path.join(deps, 'lib'), {recursive: true});
  for (const lib of WHEEL_LIBS) linkOrCopy(path.join(tfDir, 'lib', lib), path.join(deps, 'lib', lib));
  fs.symlinkSync('libtensorflow_cc.so.2', path.join(deps, 'lib', 'libtensorflow.so'));
  fs.symlinkSync('libtensorflow_cc.so.2', path.join(deps, 'lib', 'libtensorflow.so.2'));
  fs.symlinkSync('libtensorflow_framework.so.2', path.join(deps, 'lib', 'libtensorflow_framework.so'));
  fs.cpSync(path.join(tfDir, 'include'), path.join(deps, 'include'), {recursive: true});
}

function nodeHeadersDir(nodedir: string | undefined, log: (s: string) => void): string {
  const candidates = [nodedir, process.env.npm_config_nodedir, path.dirname(path.dirname(process.execPath))]
    .filter((d): d is string => !!d);
  const want = process.version.slice(1);
  for (const dir of candidates) {
    const vh = path.join(dir, 'include', 'node', 'node_version.h');
    if (!fs.existsSync(vh) || !fs.existsSync(path.join(dir, 'include', 'node', 'node_api.h'))) continue;
    const src = fs.readFileSync(vh, 'utf8');
    const v = ['MAJOR', 'MINOR', 'PATCH'].map((k) => (new RegExp(`#define NODE_${k}_VERSION (\\d+)`).exec(src) ?? [])[1]).join('.');
    if (v === want) return dir;
    log(`note: ${vh} is for Node ${v}, this is Node ${want}; skipped`);
  }
  return fail(`no Node ${process.version} headers found (include/node/node_api.h under: ${candidates.join(', ')}). ` +
    'node-gyp would download them from nodejs.org. Install them (Debian/Ubuntu: the nodejs package has them; ' +
    'NodeSource/nvm installs do too) or pass --nodedir <prefix containing include/node>.');
}

function nodeGypCommand(root: string): {cmd: string; pre: string[]; label: string} {
  const tries: string[] = [];
  try {
    tries.push(createRequire(path.join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch { /* not a project dependency */ }
  const npmRoots = [path.join(path.dirname(path.dirname(process.execPath)), 'lib', 'node_modules')];
  const g = run('npm', ['root', '-g']);
  if (g.ok) npmRoots.push(g.out.trim().split('\n').pop()!);
  for (const r of npmRoots) tries.push(path.join(r, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  const found = tries.find((p) => fs.existsSync(p));
  if (found) return {cmd: process.execPath, pre: [found], label: found};
  // Last resort: node-gyp from the npm registry.
  return {cmd: 'npx', pre: ['--yes', 'node-gyp@12'], label: 'npx node-gyp@12'};
}

function buildAddon(root: string, pkgDir: string, target: Target, cacheDir: string, opts: SetupNodeOptions, log: (s: string) => void): void {
  const nodedir = nodeHeadersDir(opts.nodedir, log);
  const gyp = nodeGypCommand(root);
  log(`building the addon with node-gyp (${gyp.label}), Node headers from ${nodedir}/include/node ...`);
  const logFile = path.join(cacheDir, 'node-gyp-build.log');
  const args = [...gyp.pre, 'rebuild', `--nodedir=${nodedir}`, `--jobs=${Math.max(1, os.cpus().length)}`,
    `--module_name=${target.moduleName}`, `--module_path=${target.modulePath}`, `--napi_build_version=${target.napiVersion}`];
  if (opts.python) args.push(`--python=${opts.python}`);
  const res = run(gyp.cmd, args, {cwd: pkgDir, logFile});
  if (!res.ok) fail(`node-gyp build failed (full log: ${logFile})`, errorsAndTail(res.out));
  if (!fs.existsSync(target.file)) {
    // binding.gyp's action_after_build copies into module_path; do it if it did not.
    const built = path.join(pkgDir, 'build', 'Release', `${target.moduleName}.node`);
    if (!fs.existsSync(built)) fail(`node-gyp succeeded but produced no ${built} (log: ${logFile})`);
    fs.mkdirSync(target.modulePath, {recursive: true});
    fs.copyFileSync(built, target.file);
  }
}

/** The NVIDIA driver's version line, or null when there is none (no GPU tfjs-node-gpu could use). */
export function nvidiaDriver(procFile = '/proc/driver/nvidia/version'): string | null {
  try {
    return fs.readFileSync(procFile, 'utf8').split('\n')[0].trim();
  } catch {
    return null;
  }
}

/** Default cache: $XDG_CACHE_HOME/tfjs-norms/tfjs-node (~/.cache/...), shared by every project. */
export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'tfjs-norms', 'tfjs-node');
}

export function setupNode(opts: SetupNodeOptions = {}): SetupNodeResult {
  const log = opts.log ?? ((s: string) => process.stdout.write(`${s}\n`));
  const root = path.resolve(opts.root ?? process.cwd());
  const packageName = opts.gpu ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  if (opts.gpu) {
    const driver = nvidiaDriver(opts.nvidiaProc);
    if (!driver) {
      fail(`--gpu: no NVIDIA driver here (${opts.nvidiaProc ?? '/proc/driver/nvidia/version'} is missing), so ` +
        `${packageName} could only run on the CPU. Use @tensorflow/tfjs-node (setup-node without --gpu).`);
    }
    log(`NVIDIA driver: ${driver}`);
  }
  const pkg = findPackage(root, packageName);

  if (!opts.force) {
    const c = checkLoads(root, packageName);
    if (c.ok) {
      log(`${packageName} ${c.info.tfjs} already works (backend ${c.info.backend}, libtensorflow ${c.info.tf})`);
      return {packageName, status: 'works', info: c.info};
    }
    if (opts.check) fail(`${packageName} does not load here (run \`npx tfjs-norms setup-node${opts.gpu ? ' --gpu' : ''}\`)`, tail(c.out, 15));
    log(`${packageName} does not load yet; setting it up from PyPI's TensorFlow wheel`);
  } else if (opts.check) {
    fail('--check and --force exclude each other');
  }

  if (process.platform !== 'linux' || process.arch !== 'x64') {
    fail(`unsupported platform ${process.platform}-${process.arch}: setup-node only handles linux-x64 (manylinux wheels); ` +
      `elsewhere ${packageName}'s own install script downloads a prebuilt libtensorflow`);
  }
  const tfVersion = opts.tfVersion ?? DEFAULT_TF_VERSION;
  // The `tensorflow` wheel's libtensorflow is built with CUDA (it loads the CUDA libraries at run
  // time and falls back to the CPU without them); `tensorflow-cpu` is the same without CUDA.
  const requirement = `${opts.gpu ? 'tensorflow' : 'tensorflow-cpu'}==${tfVersion}`;
  const cacheDir = path.resolve(opts.cacheDir ?? defaultCacheDir());
  fs.mkdirSync(cacheDir, {recursive: true});
  const target = addonTarget(pkg);
  log(`${packageName} ${pkg.pj.version} at ${pkg.pkgDir}`);
  log(`${requirement}, N-API v${target.napiVersion}, cache ${cacheDir}`);

  const cachedAddon = path.join(cacheDir, `${target.moduleName}-${packageName.split('/')[1]}${pkg.pj.version}-tf${tfVersion}-` +
    `napi${target.napiVersion}-${process.platform}-${process.arch}.node`);
  const haveAddon = !opts.force && fs.existsSync(cachedAddon);
  const tfDir = path.join(cacheDir, `${opts.gpu ? 'tf-gpu' : 'tf'}-${tfVersion}`);
  // Every tool is checked before the long download.
  if (!haveAddon) checkToolchain();
  if (!extractedComplete(tfDir)) {
    let wheel = opts.wheel ? path.resolve(opts.wheel) : '';
    if (wheel && !fs.existsSync(wheel)) fail(`--wheel ${wheel} does not exist`);
    const py = pythonWithPip(opts.python);
    if (!haveAddon) nodeHeadersDir(opts.nodedir, log);
    if (!wheel) wheel = ensureWheel(cacheDir, requirement, py, log);
    extractWheel(wheel, tfDir, requirement, py, log);
  } else {
    log(`libtensorflow already extracted: ${tfDir}`);
  }
  layoutDeps(pkg.pkgDir, tfDir);

  // A built addon (N-API: independent of the Node version) is reused; else node-gyp builds it.
  let status: 'built' | 'cached' = 'built';
  if (haveAddon) {
    fs.mkdirSync(target.modulePath, {recursive: true});
    fs.copyFileSync(cachedAddon, target.file);
    log(`installed the cached addon ${path.basename(cachedAddon)}`);
    status = 'cached';
  } else {
    fs.rmSync(target.file, {force: true});
    buildAddon(root, pkg.pkgDir, target, cacheDir, opts, log);
  }
  let c = checkLoads(root, packageName);
  if (!c.ok && status === 'cached') {
    log('the cached addon does not load; rebuilding');
    fs.rmSync(cachedAddon, {force: true});
    checkToolchain();
    buildAddon(root, pkg.pkgDir, target, cacheDir, opts, log);
    status = 'built';
    c = checkLoads(root, packageName);
  }
  if (!c.ok) return fail('the built addon does not load or run ops', tail(c.out));
  if (status === 'built') fs.copyFileSync(target.file, cachedAddon);
  log(`OK: ${packageName} ${c.info.tfjs} works (backend ${c.info.backend}, libtensorflow ${c.info.tf})`);
  return {packageName, status, info: c.info};
}
