/**
 * No leaks on the tensorflow backend: tf.memory().numTensors, and the TensorFlow handles of the
 * tfjs-node binding (which also count the kernels' raw intermediates), return to their starting
 * values after every op and its gradient, on the native and the shifted paths.
 *
 * tfjs-node creates a tensor's TensorFlow handle lazily, the first time a TensorFlow op reads it
 * (`x`, `gamma`, `beta` from `tf.randomNormal` start as JavaScript values), and deletes it with
 * the tensor. The inputs are therefore materialized before the count is taken, and the count is
 * checked again once they are disposed (against the value before they were created).
 */
import {materialize, tf, tfHandles, useTensorflow} from './support/tfnode.js';
import {batchNorm, groupNorm, inplaceABN, instanceNorm, layerNorm, syncBatchNorm} from '../../src/index.js';
import type {Scalar, Tensor, Tensor1D} from '@tensorflow/tfjs-core';

beforeAll(async () => {
  await useTensorflow();
});

type Run = (x: Tensor, g: Tensor, b: Tensor, all?: Tensor[]) => Tensor;
const keepAll = (r: {y: Tensor; mean: Tensor; variance: Tensor}, all?: Tensor[]) => {
  all?.push(r.y, r.mean, r.variance);
  return r.y;
};
const runs: Array<[string, number[], Run, number]> = [
  ['batchNorm training NHWC', [4, 3, 3, 5], (x, g, b, all) => keepAll(batchNorm(x, {training: true, gamma: g, beta: b, activation: 'relu'}), all), 3],
  ['batchNorm training NCHW', [4, 5, 3, 3], (x, g, b, all) => keepAll(batchNorm(x, {training: true, gamma: g, beta: b, dataFormat: 'NCHW', activation: 'elu'}), all), 1],
  ['batchNorm inference', [4, 5], (x, g, b, all) => tf.tidy(() => {
    const mean = tf.fill([5], 0.5) as Tensor1D;
    const variance = tf.fill([5], 2) as Tensor1D;
    return keepAll(batchNorm(x, {training: false, gamma: g, beta: b, mean, variance}), all);
  }), 1],
  ['batchNorm training, no affine', [6, 5], (x, _g, _b, all) => keepAll(batchNorm(x, {training: true}), all), 1],
  ['syncBatchNorm', [6, 5], (x, g, b, all) => {
    const r = syncBatchNorm(x, {gamma: g, beta: b});
    all?.push(r.y, r.mean, r.variance);
    return r.y;
  }, 1],
  ['inplaceABN', [6, 5], (x, g, b, all) => keepAll(inplaceABN(x, {training: true, gamma: g, beta: b}), all), 1],
  ['layerNorm', [2, 3, 5], (x, g, b) => layerNorm(x, {gamma: g, beta: b}), 2],
  ['groupNorm', [2, 3, 5], (x, g, b) => groupNorm(x, {groups: 5, gamma: g, beta: b, activation: 'elu'}), 2],
  ['groupNorm NCHW', [2, 4, 3, 2], (x, g, b) => groupNorm(x, {groups: 2, gamma: g, beta: b, dataFormat: 'NCHW'}), 1],
  ['instanceNorm', [2, 3, 5], (x, g, b) => instanceNorm(x, {gamma: g, beta: b, activation: 'leakyRelu'}), 2],
  ['instanceNorm NCHW', [2, 3, 5], (x, g, b) => instanceNorm(x, {gamma: g, beta: b, dataFormat: 'NCHW'}), 1],
];

describe.each([['normal data', 0], ['data far from zero', 1000]] as const)('%s', (_w, loc) => {
  /** x, gamma and beta with their TensorFlow handles created (tfjs-node makes them lazily). */
  function inputs(shape: number[], channelAxis: number) {
    const start = tfHandles();
    const x = tf.randomNormal(shape, loc, loc ? 0.01 : 1);
    const C = shape[channelAxis];
    const g = tf.randomNormal([C]);
    const b = tf.randomNormal([C]);
    materialize(x, g, b);
    expect(tfHandles()).toBe(start + 3);
    return {start, x, g, b};
  }

  test.each(runs)('%s: forward, outputs disposed', (_n, shape, run, channelAxis) => {
    const {start, x, g, b} = inputs(shape, channelAxis);
    const before = tf.memory().numTensors;
    const handles = tfHandles();
    const all: Tensor[] = [];
    const y = run(x, g, b, all);
    tf.dispose([y, ...all]);
    expect(tf.memory().numTensors).toBe(before);
    expect(tfHandles()).toBe(handles);
    tf.dispose([x, g, b]);
    expect(tfHandles()).toBe(start);
  });

  test.each(runs)('%s: tf.grad and tf.variableGrads', (_n, shape, run, channelAxis) => {
    const {start, x, g, b} = inputs(shape, channelAxis);
    const before = tf.memory().numTensors;
    const handles = tfHandles();
    const dx = tf.grad((xx: Tensor) => tf.sum(tf.square(run(xx, g, b))))(x);
    expect(tf.memory().numTensors).toBe(before + 1);
    dx.dispose();
    expect(tfHandles()).toBe(handles);
    const xv = tf.variable(x);
    // The variable shares x's data (and TensorFlow handle) until assigned.
    const handlesV = tfHandles();
    const {value, grads: vg} = tf.variableGrads(() => tf.sum(tf.square(run(xv, g, b))) as Scalar, [xv]);
    tf.dispose([value, xv, ...Object.values(vg)]);
    expect(tf.memory().numTensors).toBe(before);
    expect(tfHandles()).toBe(handlesV);
    tf.dispose([x, g, b]);
    expect(tfHandles()).toBe(start);
  });
});
