/**
 * The built package (run after `npm run build`, as scripts/test.sh does): the `exports` map
 * resolves for ESM and CommonJS in Node (the full API, TCP transport included), the browser
 * build of the main entry has the same names, and the browser bundle defines `tfnorms` on top
 * of `tf`.
 */
import {execFileSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import vm from 'node:vm';

const root = join(__dirname, '..', '..');
const node = (args: string[]) => execFileSync(process.execPath, args, {cwd: root, encoding: 'utf8'});
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'cjs', 'src', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  }
});

test('CommonJS: tfjs-norms, tfjs-norms/webgl and tfjs-norms/node resolve; initFromEnv works in Node', () => {
  const out = node(['-e', `
    const tf = require('@tensorflow/tfjs-core'); require('@tensorflow/tfjs-backend-cpu');
    const n = require('tfjs-norms'); require('tfjs-norms/webgl'); const nn = require('tfjs-norms/node');
    tf.setBackend('cpu');
    const y = n.layerNorm(tf.tensor2d([[1, 2, 3]]));
    const g = n.collective.initFromEnv({env: {WORLD_SIZE: '1', RANK: '0'}});
    console.log(JSON.stringify({keys: Object.keys(n).sort(), nodeKeys: Object.keys(nn).sort(),
      worldSize: g.worldSize, sameTcp: nn.TcpTransport === n.collective.TcpTransport,
      y: Array.from(y.dataSync()).map(v => +v.toFixed(4))}));
  `]);
  const r = JSON.parse(out.trim().split('\n').pop()!);
  expect(r.keys).toEqual(expect.arrayContaining(['batchNorm', 'collective', 'convert', 'groupNorm', 'instanceNorm', 'layerNorm', 'layers']));
  // The public contract of tfjs-norms/node: kernels, the graph-model fix and the TCP transport; no CLI internals.
  expect(r.nodeKeys).toEqual(['TcpTransport', 'disableTrainingFusedBatchNorm', 'enableTrainingFusedBatchNorm',
    'initFromEnv', 'tensorflowKernelConfigs', 'tensorflowKernelsRegistered']);
  expect(r.worldSize).toBe(1);
  expect(r.sameTcp).toBe(true);
  expect(r.y).toEqual([-1.2247, 0, 1.2247]);
});

test('ESM: the same entry points import', () => {
  const out = node(['--input-type=module', '-e', `
    import * as tf from '@tensorflow/tfjs-core'; import '@tensorflow/tfjs-backend-cpu';
    import {batchNorm, collective} from 'tfjs-norms'; import 'tfjs-norms/webgl'; import 'tfjs-norms/node';
    await tf.setBackend('cpu');
    console.log(batchNorm(tf.tensor2d([[1], [3]]), {training: true}).mean.dataSync()[0], typeof collective.initFromEnv);
  `]);
  expect(out.trim().split('\n').pop()).toBe('2 function');
});

test('the browser build of the main entry has the same names; its TCP parts throw a clear error', () => {
  for (const format of ['esm', 'cjs']) {
    const out = node(['-e', `
      const load = (p) => ${format === 'esm' ? 'import(p)' : 'Promise.resolve(require(p))'};
      Promise.all([load('./dist/${format}/src/index.js'), load('./dist/${format}/src/browser.js')]).then(([n, b]) => {
        let err = '';
        try { new b.collective.TcpTransport({}); } catch (e) { err = e.name + ': ' + e.message; }
        console.log(JSON.stringify({n: Object.keys(n).sort(), b: Object.keys(b).sort(),
          nc: Object.keys(n.collective).sort(), bc: Object.keys(b.collective).sort(), err}));
      });
    `]);
    const r = JSON.parse(out.trim().split('\n').pop()!);
    expect(r.b).toEqual(r.n);
    expect(r.bc).toEqual(r.nc);
    expect(r.err).toMatch(/^CollectiveError: collective\.TcpTransport needs Node\.js/);
  }
});

test('every file the exports map names exists, with declarations for import and require', () => {
  const files: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') files.push(v);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(pkg.exports);
  walk(pkg.typesVersions);
  for (const file of files) expect([file, existsSync(join(root, file))]).toEqual([file, true]);
  for (const [entry, conditions] of Object.entries(pkg.exports)) {
    if (typeof conditions === 'string') continue;
    const c = conditions as Record<string, {types: string; default: string}>;
    expect([entry, c.import.types, c.require.types]).toEqual([entry, expect.stringMatching(/^\.\/dist\/esm\/.*\.d\.ts$/),
      expect.stringMatching(/^\.\/dist\/cjs\/.*\.d\.ts$/)]);
  }
  // The CommonJS declarations are read as CommonJS because of this marker.
  expect(JSON.parse(readFileSync(join(root, 'dist', 'cjs', 'package.json'), 'utf8'))).toEqual({type: 'commonjs'});
});

test('no source maps ship (the package has no sources for them to point at)', () => {
  const out = node(['-e', `
    const {readdirSync} = require('fs');
    console.log(readdirSync('dist', {recursive: true}).filter((f) => f.endsWith('.map')).length);
  `]);
  expect(out.trim()).toBe('0');
  expect(readFileSync(join(root, 'dist', 'esm', 'src', 'index.js'), 'utf8')).not.toMatch(/sourceMappingURL/);
});

test('the browser bundle defines the global tfnorms on top of the global tf', () => {
  // The union bundle's node build stands in for the page's `tf` global.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tf = require('@tensorflow/tfjs');
  const context = vm.createContext({tf, console});
  vm.runInContext(readFileSync(join(root, 'dist', 'tfjs-norms.min.js'), 'utf8'), context);
  const tfnorms = (context as unknown as {tfnorms: {groupNorm: (x: unknown, o: unknown) => {shape: number[]}}}).tfnorms;
  expect(typeof tfnorms.groupNorm).toBe('function');
  expect(tfnorms.groupNorm(tf.ones([2, 4, 4]), {groups: 2}).shape).toEqual([2, 4, 4]);
});

test('tfjs-norms/wasm registers the wasm kernels (CommonJS and ESM), with type declarations', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const conditions = pkg.exports['./wasm'] as Record<string, Record<string, string>>;
  for (const cond of ['import', 'require']) {
    for (const file of Object.values(conditions[cond])) expect(existsSync(join(root, file))).toBe(true);
  }
  const script = (load: string) => `${load}
    tf.env().set('IS_TEST', true); // no "install tfjs-node" banner
    await tf.setBackend('wasm');
    const y = n.layerNorm(tf.tensor2d([[1, 2, 3]]));
    console.log(JSON.stringify({registered: w.wasmKernelsRegistered, kernel: tf.getKernel('NormsApply', 'wasm') != null,
      y: Array.from(y.dataSync()).map(v => +v.toFixed(4))}));`;
  const cjs = node(['-e', `(async () => {${script(`
    const tf = require('@tensorflow/tfjs-core'); require('@tensorflow/tfjs-backend-wasm');
    const n = require('tfjs-norms'); const w = require('tfjs-norms/wasm');`)}})()`]);
  const esm = node(['--input-type=module', '-e', script(`
    import * as tf from '@tensorflow/tfjs-core'; import '@tensorflow/tfjs-backend-wasm';
    import * as n from 'tfjs-norms'; import * as w from 'tfjs-norms/wasm';`)]);
  for (const out of [cjs, esm]) {
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({registered: true, kernel: true, y: [-1.2247, 0, 1.2247]});
  }
});
