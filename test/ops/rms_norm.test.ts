/**
 * rmsNorm on the suite's backend (test/support/backend.ts): PyTorch fixtures
 * (torch.nn.functional.rms_norm) forward and backward, the composite kernels (tfjs kernels only) against the fused ones, errors, leaks.
 */
import * as tf from '@tensorflow/tfjs';
import {rmsNormBody, rmsNormGradBody} from '../../kernels/composite/rms_norm.js';
import * as norms from '../../src/index.js';
import {NormsRMSNorm, NormsRMSNormGrad} from '../../src/kernel_names.js';
import {checkCase, compare, type NormOps} from '../support/fixtures.js';
import {loadFixtures} from '../support/load.js';
import {useTestBackend} from '../support/backend.js';

beforeAll(async () => {
  await useTestBackend(tf);
});

const fixtures = loadFixtures('rms_norm');

describe(`rms_norm fixtures (torch ${fixtures.torch})`, () => {
  test.each(fixtures.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const before = tf.memory().numTensors;
    expect(checkCase(tf, norms as unknown as NormOps, c)).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

test('the zero row gives y = 0 and a finite gradient; epsilon defaults to 1e-6', () => {
  const x = tf.tensor2d([[0, 0, 0], [1e-3, -1e-3, 1e-3]]);
  const y = norms.rmsNorm(x).arraySync() as number[][];
  expect(y[0]).toEqual([0, 0, 0]);
  // mean(x²) = 1e-6 = epsilon: y = x / sqrt(2e-6).
  expect(y[1][0]).toBeCloseTo(1e-3 / Math.sqrt(2e-6), 5);
  const dx = tf.grad((t: tf.Tensor) => norms.rmsNorm(t).sum())(x).arraySync() as number[][];
  expect(dx[0].every((v) => Number.isFinite(v) && Math.abs(v - 1000) < 1e-2)).toBe(true);
});

describe('the composite kernels (tfjs kernels only) equal the kernels the ops run', () => {
  const shapes: Array<[number[], number]> = [[[4, 7], 1], [[2, 3, 5], 2], [[2, 3, 4, 6], 1], [[9], 1]];
  test.each(shapes)('%j over %d trailing axes', (shape, axisCount) => {
    const before = tf.memory().numTensors;
    const x = tf.randomNormal(shape, 0.3, 1.5, 'float32', 1);
    const pshape = shape.slice(shape.length - axisCount);
    const gamma = tf.randomNormal(pshape, 1, 0.5, 'float32', 2);
    const dy = tf.randomNormal(shape, 0, 1, 'float32', 3);
    const attrs = {axisCount, epsilon: 1e-5};
    const backend = tf.backend();
    const info = (t: tf.Tensor) => ({dataId: t.dataId, shape: t.shape, dtype: t.dtype});
    const read = (t: tf.TensorInfo) => backend.readSync(t.dataId) as Float32Array;
    const fused = tf.engine().runKernel(NormsRMSNorm, {x, gamma}, attrs) as tf.Tensor[];
    const comp = rmsNormBody(backend, tf.getBackend(), {x: info(x), gamma: info(gamma)}, attrs);
    expect(comp.map((t) => t.shape)).toEqual(fused.map((t) => t.shape));
    expect(compare('y', read(comp[0]), {shape, data: Array.from(fused[0].dataSync())}, 1e-5, 1e-6)).toEqual([]);
    expect(compare('invRms', read(comp[1]), {shape: [], data: Array.from(fused[1].dataSync())}, 1e-5, 1e-6)).toEqual([]);
    const gin = {dy, x, invRms: fused[1], gamma};
    const fg = tf.engine().runKernel(NormsRMSNormGrad, gin, attrs) as tf.Tensor[];
    const cg = rmsNormGradBody(backend, tf.getBackend(), {dy: info(dy), x: info(x), invRms: info(fused[1]), gamma: info(gamma)},
      attrs);
    expect(cg.map((t) => t.shape)).toEqual(fg.map((t) => t.shape));
    expect(compare('dx', read(cg[0]), {shape, data: Array.from(fg[0].dataSync())}, 1e-4, 1e-5)).toEqual([]);
    expect(compare('dgamma', read(cg[1]), {shape: pshape, data: Array.from(fg[1].dataSync())}, 1e-4, 1e-5)).toEqual([]);
    for (const t of [...comp, ...cg]) backend.disposeData(t.dataId);
    tf.dispose([x, gamma, dy, ...fused, ...fg]);
    expect(tf.memory().numTensors).toBe(before);
    expect(backend.numDataIds()).toBe(tf.memory().numDataBuffers);
  });
});

describe('errors name the op and the argument', () => {
  test.each([
    ['axes not trailing', () => norms.rmsNorm(tf.ones([2, 3, 4]), {axes: [1]}), /rmsNorm: 'axes' must be the trailing axes/],
    ['gamma of the wrong shape', () => norms.rmsNorm(tf.ones([2, 3]), {gamma: tf.ones([4])}), /rmsNorm: 'gamma' must have shape \[3\]/],
    ['negative epsilon', () => norms.rmsNorm(tf.ones([2, 3]), {epsilon: -1}), /rmsNorm: 'epsilon' must be a finite number >= 0/],
    ['unknown option', () => norms.rmsNorm(tf.ones([2, 3]), {beta: tf.ones([3])} as never), /rmsNorm: unknown option 'beta'/],
    ['int input', () => norms.rmsNorm(tf.ones([2, 3], 'int32')), /rmsNorm: 'x' must be a float32 tensor/],
  ])('%s', (_n, f, message) => {
    expect(f).toThrow(message);
  });
});

test('no leaked tensors in forward, tf.grads and tf.variableGrads', () => {
  const x = tf.randomNormal([3, 4, 8]);
  const gamma = tf.variable(tf.ones([8]));
  const before = tf.memory().numTensors;
  norms.rmsNorm(x, {gamma}).dispose();
  tf.grads((a: tf.Tensor, g: tf.Tensor) => norms.rmsNorm(a, {gamma: g}).sum())([x, gamma]).forEach((t) => t.dispose());
  const {value, grads} = tf.variableGrads(() => norms.rmsNorm(x, {gamma}).square().sum() as tf.Scalar);
  value.dispose();
  Object.values(grads).forEach((t) => t.dispose());
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([x, gamma]);
});
