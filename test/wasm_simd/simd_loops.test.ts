/**
 * The wasm kernels' loops on the WebAssembly SIMD build (kernels/wasm/simd_loops.ts) against the
 * JavaScript loops they replace (TFJS_NORMS_WASM_SIMD off), kernel by kernel, over the layouts
 * (channels first and last, per sample or not, groups, LayerNorm rows, S = 1), the activations
 * and the optional inputs, within float32 tolerance; and that the SIMD build is what ran.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {wasmSimdReady} from '../../src/wasm.js';
import {runKernel} from '../../src/run_kernel.js';
import {NORMS_WASM_SIMD, withFlags} from '../../src/flags.js';
import {simdCalls} from '../../kernels/wasm/simd_loops.js';
import type {NormActivation} from '../../src/kernel_names.js';

beforeAll(async () => {
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start');
  expect(await wasmSimdReady()).toBe(true);
});

afterAll(() => {
  tf.removeBackend('wasm');
});

type Named = Record<string, tf.Tensor | undefined>;

function run(simd: boolean, name: string, inputs: Named, attrs: object): Float32Array[] {
  return withFlags({[NORMS_WASM_SIMD]: simd}, () => {
    const ins = Object.fromEntries(Object.entries(inputs).filter(([, t]) => t !== undefined)) as tf.NamedTensorMap;
    const out = runKernel(name, ins, attrs) as tf.Tensor | tf.Tensor[];
    const list = Array.isArray(out) ? out : [out];
    const data = list.map((t) => t.dataSync() as Float32Array);
    tf.dispose(list);
    return data;
  });
}

/** Largest |simd − js| / (1e-3 + |js|) over every output, and its position. */
function worst(simd: Float32Array[], js: Float32Array[]): number {
  let m = 0;
  js.forEach((a, k) => a.forEach((v, i) => {
    m = Math.max(m, Math.abs(simd[k][i] - v) / (1e-3 + Math.abs(v)));
  }));
  return m;
}

interface Layout {
  name: string;
  shape: number[];
  attrs: {layout: 'NCS' | 'NSC'; batchAxes: number; channelAxes: number; groups: number; perSample: boolean};
}

const LAYOUTS: Layout[] = [
  {name: 'BN NCHW', shape: [3, 6, 5, 7], attrs: {layout: 'NCS', batchAxes: 1, channelAxes: 1, groups: 6, perSample: false}},
  {name: 'BN NHWC C=130', shape: [3, 5, 7, 130], attrs: {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 130, perSample: false}},
  {name: 'BN [N, C] C=3', shape: [40, 3], attrs: {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 3, perSample: false}},
  {name: 'GN NCHW', shape: [2, 8, 6, 5], attrs: {layout: 'NCS', batchAxes: 1, channelAxes: 1, groups: 4, perSample: true}},
  {name: 'GN NHWC', shape: [2, 6, 5, 12], attrs: {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 3, perSample: true}},
  {name: 'IN NHWC', shape: [2, 9, 7, 6], attrs: {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 6, perSample: true}},
  {name: 'IN NCHW', shape: [2, 6, 9, 7], attrs: {layout: 'NCS', batchAxes: 1, channelAxes: 1, groups: 6, perSample: true}},
  {name: 'LN rows', shape: [5, 7, 130], attrs: {layout: 'NSC', batchAxes: 2, channelAxes: 1, groups: 1, perSample: true}},
  {name: 'LN over [S, C]', shape: [3, 6, 10], attrs: {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 1, perSample: true}},
];

const ACTS: [NormActivation, number][] = [['linear', 0], ['relu', 0], ['leakyRelu', 0.2], ['elu', 0.7]];
const TOL = 2e-4;

describe.each(LAYOUTS)('$name', ({shape, attrs}) => {
  test.each(ACTS)('%s: every kernel matches the JavaScript loops', (activation, alpha) => {
    const before = tf.memory().numTensors;
    const calls = {...simdCalls};
    const C = attrs.layout === 'NSC' ? shape[shape.length - 1] : shape[attrs.batchAxes];
    const a = {...attrs, epsilon: 1e-5, activation, alpha};
    // 1000 + noise: statistics far from zero.
    const x = tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', 3).mul(0.5).add(1000));
    const dy = tf.randomNormal(shape, 0, 1, 'float32', 4);
    const gamma = tf.randomNormal([C], 1, 0.3, 'float32', 5), beta = tf.randomNormal([C], 0, 1, 'float32', 6);
    const stats = runKernel('NormsNormalizeTraining', {x, gamma, beta}, a) as tf.Tensor[];
    const [, mean, variance] = stats;
    const cases: [string, Named, object][] = [
      ['NormsMoments', {x}, a],
      ['NormsNormalizeTraining', {x, gamma, beta}, a],
      ['NormsNormalizeTraining', {x}, a],
      ['NormsApply', {x, mean, variance, gamma, beta}, a],
      ['NormsBackwardReduce', {dy, x, mean, variance, gamma, beta}, a],
      ['NormsBackwardTraining', {dy, x, mean, variance, gamma, beta}, a],
      ['NormsBackwardApply', {dy, x, mean, variance, gamma, beta}, {...a, training: false, count: 1}],
    ];
    for (const [name, ins, at] of cases) {
      expect({name, err: worst(run(true, name, ins, at), run(false, name, ins, at)) < TOL}).toEqual({name, err: true});
    }
    const ran = (loop: string) => (simdCalls[loop] ?? 0) - (calls[loop] ?? 0);
    expect(ran('backwardReduce')).toBe(2);
    expect(ran('backwardApply')).toBe(2);
    expect(ran('moments') + ran('slotMoments')).toBeGreaterThan(0);
    tf.dispose([x, dy, gamma, beta, ...stats]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

test('RMSNorm forward and backward match the JavaScript loops, on the SIMD build', () => {
  const x = tf.randomNormal([6, 130], 0, 1, 'float32', 7), gamma = tf.randomNormal([130], 1, 0.2, 'float32', 8);
  const dy = tf.randomNormal([6, 130], 0, 1, 'float32', 9);
  const a = {axisCount: 1, epsilon: 1e-6};
  const [y, invRms] = runKernel('NormsRMSNorm', {x, gamma}, a) as tf.Tensor[];
  const calls = {...simdCalls};
  expect(worst(run(true, 'NormsRMSNorm', {x, gamma}, a), run(false, 'NormsRMSNorm', {x, gamma}, a))).toBeLessThan(TOL);
  const ins = {dy, x, invRms, gamma};
  expect(worst(run(true, 'NormsRMSNormGrad', ins, a), run(false, 'NormsRMSNormGrad', ins, a))).toBeLessThan(TOL);
  expect(simdCalls.rmsNormForward - (calls.rmsNormForward ?? 0)).toBe(1);
  expect(simdCalls.rmsNormBackward - (calls.rmsNormBackward ?? 0)).toBe(1);
  tf.dispose([x, gamma, dy, y, invRms]);
});
