/**
 * `npx tfjs-norms setup-node` from the packed package: its help, the already-working tfjs-node
 * of this repository detected as working (--check changes nothing), and clear errors where it
 * cannot work (package not installed, no C++ compiler, no python3, --gpu without an NVIDIA
 * driver). The full build path runs in scripts/setup.sh on a machine without a built addon.
 */
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {makeConsumer, removeTarball, type Consumer} from './support/consumer.js';

const consumers: Consumer[] = [];
const scratch = mkdtempSync(join(tmpdir(), 'tfjs-norms-setup-'));
afterAll(() => {
  consumers.forEach((c) => c.remove());
  rmSync(scratch, {recursive: true, force: true});
  removeTarball();
});

function consumer(name: string, links?: string[]): Consumer {
  const c = makeConsumer(name, {links});
  consumers.push(c);
  return c;
}

/** Runs the installed package's bin (as `npx tfjs-norms` would). */
function cli(c: Consumer, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(c.dir, 'node_modules', 'tfjs-norms', 'bin', 'tfjs-norms.cjs'), ...args],
    {cwd: c.dir, encoding: 'utf8', env: {...process.env, TF_CPP_MIN_LOG_LEVEL: '2', ...env}});
  return {status: r.status, stdout: r.stdout, stderr: r.stderr};
}

/** A project whose @tensorflow/tfjs-node is an addon-less package (its install script never ran). */
function fakeTfjsNode(name: string): Consumer {
  const c = consumer(name, ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', 'commander']);
  c.write('node_modules/@tensorflow/tfjs-node/package.json', JSON.stringify({name: '@tensorflow/tfjs-node', version: '4.22.0',
    main: 'index.js', binary: {module_name: 'tfjs_binding', module_path: './lib/napi-v{napi_build_version}/', napi_versions: [8]}}));
  c.write('node_modules/@tensorflow/tfjs-node/binding.gyp', '{}\n');
  c.write('node_modules/@tensorflow/tfjs-node/index.js', "throw new Error('tfjs_binding.node not found');\n");
  return c;
}

test('--help explains what it does, what it needs and what -gpu means', () => {
  const r = cli(consumer('help', ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', 'commander']), ['setup-node', '--help']);
  expect(r.status).toBe(0);
  for (const text of ['Usage: tfjs-norms setup-node', '--gpu', '--check', '--wheel <file>', 'tensorflow-cpu', 'node-gyp',
    'python3 with pip', 'g++ and make', 'NVIDIA driver', 'not tested on a GPU']) expect(r.stdout).toContain(text);
  expect(cli(consumers[0], ['--help']).stdout).toMatch(/setup-node.*libtensorflow/);
});

test('a working @tensorflow/tfjs-node is detected as working (--check, nothing changed)', () => {
  const r = cli(consumer('works'), ['setup-node', '--check', '--cache-dir', join(scratch, 'unused')]);
  expect({status: r.status, stderr: r.stderr}).toEqual({status: 0, stderr: ''});
  expect(r.stdout).toMatch(/@tensorflow\/tfjs-node 4\.\d+\.\d+ already works \(backend tensorflow, libtensorflow \d+\.\d+/);
  expect(existsSync(join(scratch, 'unused'))).toBe(false);
}, 60_000);

test('not installed: says how to install it', () => {
  const r = cli(consumer('missing', ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', 'commander']), ['setup-node']);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/setup-node: @tensorflow\/tfjs-node is not installed .*npm install @tensorflow\/tfjs-node --ignore-scripts/);
});

test('--check on a package that does not load: exit code 1, nothing built', () => {
  const r = cli(fakeTfjsNode('check'), ['setup-node', '--check', '--cache-dir', join(scratch, 'check')]);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/@tensorflow\/tfjs-node does not load here/);
  expect(existsSync(join(scratch, 'check'))).toBe(false);
}, 60_000);

test('no C++ compiler: a clear error before any download', () => {
  const r = cli(fakeTfjsNode('nocxx'), ['setup-node', '--cache-dir', join(scratch, 'nocxx')], {CXX: '/nonexistent/g++'});
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/no C\+\+ compiler \(\/nonexistent\/g\+\+\) found: building the addon needs g\+\+ and make/);
}, 60_000);

test('no python3: a clear error before any download', () => {
  const r = cli(fakeTfjsNode('nopython'), ['setup-node', '--cache-dir', join(scratch, 'nopython'), '--python', '/nonexistent/python3']);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/\/nonexistent\/python3 not found: python3 with pip is needed once/);
}, 60_000);

test('--gpu: refuses without an NVIDIA driver (this machine has none), else needs tfjs-node-gpu installed', () => {
  const r = cli(consumer('gpu', ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', 'commander']), ['setup-node', '--gpu']);
  expect(r.status).toBe(1);
  if (existsSync('/proc/driver/nvidia/version')) {
    expect(r.stderr).toMatch(/@tensorflow\/tfjs-node-gpu is not installed/);
  } else {
    expect(r.stderr).toMatch(/--gpu: no NVIDIA driver here .* Use @tensorflow\/tfjs-node/);
  }
});
