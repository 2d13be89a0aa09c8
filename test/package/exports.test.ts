/**
 * The built package (run after `npm run build`, as scripts/test.sh does): the `exports` map
 * resolves for ESM and CommonJS, and the browser bundle defines `tfnorms` on top of `tf`.
 */
import {execFileSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import vm from 'node:vm';

const root = join(__dirname, '..', '..');
const node = (args: string[]) => execFileSync(process.execPath, args, {cwd: root, encoding: 'utf8'});

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'cjs', 'src', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  }
});

test('CommonJS: tfjs-norms, tfjs-norms/webgl and tfjs-norms/node resolve', () => {
  const out = node(['-e', `
    const tf = require('@tensorflow/tfjs-core'); require('@tensorflow/tfjs-backend-cpu');
    const n = require('tfjs-norms'); require('tfjs-norms/webgl'); const nn = require('tfjs-norms/node');
    tf.setBackend('cpu');
    const y = n.layerNorm(tf.tensor2d([[1, 2, 3]]));
    console.log(JSON.stringify({keys: Object.keys(n).sort(), nodeKeys: Object.keys(nn).sort(),
      y: Array.from(y.dataSync()).map(v => +v.toFixed(4))}));
  `]);
  const r = JSON.parse(out.trim().split('\n').pop()!);
  expect(r.keys).toEqual(expect.arrayContaining(['batchNorm', 'groupNorm', 'instanceNorm', 'layerNorm']));
  expect(r.nodeKeys).toEqual(expect.arrayContaining(['folderLoadHandler', 'folderSaveHandler', 'tensorflowKernelsRegistered']));
  expect(r.y).toEqual([-1.2247, 0, 1.2247]);
});

test('ESM: the same entry points import', () => {
  const out = node(['--input-type=module', '-e', `
    import * as tf from '@tensorflow/tfjs-core'; import '@tensorflow/tfjs-backend-cpu';
    import {batchNorm} from 'tfjs-norms'; import 'tfjs-norms/webgl'; import 'tfjs-norms/node';
    await tf.setBackend('cpu');
    console.log(batchNorm(tf.tensor2d([[1], [3]]), {training: true}).mean.dataSync()[0]);
  `]);
  expect(out.trim().split('\n').pop()).toBe('2');
});

test('type declarations exist for every entry point', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  for (const entry of ['.', './webgl', './node']) {
    for (const file of Object.values(pkg.exports[entry]) as string[]) {
      expect(existsSync(join(root, file))).toBe(true);
    }
  }
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
  for (const file of Object.values(pkg.exports['./wasm']) as string[]) expect(existsSync(join(root, file))).toBe(true);
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
