/** tf.memory().numTensors returns to its starting value after every op and its gradient. */
import * as tf from '@tensorflow/tfjs';
import {batchNorm, groupNorm, instanceNorm, layerNorm} from '../../src/index.js';
import {useTestBackend} from '../support/backend.js';

beforeAll(async () => {
  await useTestBackend(tf);
});

/** Returns the op's main output; `all` collects every tensor the op returned. */
type Run = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, all?: tf.Tensor[]) => tf.Tensor;
const keepAll = (r: {y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor}, all?: tf.Tensor[]) => {
  all?.push(r.y, r.mean, r.variance);
  return r.y;
};
const runs: Array<[string, number[], Run, number]> = [
  ['batchNorm training NHWC', [4, 3, 3, 5], (x, g, b, all) => keepAll(batchNorm(x, {training: true, gamma: g, beta: b, activation: 'relu'}), all), 3],
  ['batchNorm training NCHW', [4, 5, 3, 3], (x, g, b, all) => keepAll(batchNorm(x, {training: true, gamma: g, beta: b, dataFormat: 'NCHW'}), all), 1],
  ['batchNorm inference', [4, 5], (x, g, b, all) => tf.tidy(() => {
    const mean = tf.fill([5], 0.5) as tf.Tensor1D;
    const variance = tf.fill([5], 2) as tf.Tensor1D;
    return keepAll(batchNorm(x, {training: false, gamma: g, beta: b, mean, variance}), all);
  }), 1],
  ['batchNorm training, no affine', [6, 5], (x, _g, _b, all) => keepAll(batchNorm(x, {training: true}), all), 1],
  ['layerNorm', [2, 3, 5], (x, g, b) => layerNorm(x, {gamma: g, beta: b}), 2],
  ['groupNorm', [2, 3, 5], (x, g, b) => groupNorm(x, {groups: 5, gamma: g, beta: b, activation: 'elu'}), 2],
  ['instanceNorm', [2, 3, 5], (x, g, b) => instanceNorm(x, {gamma: g, beta: b, activation: 'leakyRelu'}), 2],
];

describe('no leaked tensors', () => {
  test.each(runs)('%s: forward, outputs disposed', (_n, shape, run, channelAxis) => {
    const x = tf.randomNormal(shape);
    const C = shape[channelAxis];
    const g = tf.randomNormal([C]);
    const b = tf.randomNormal([C]);
    const before = tf.memory().numTensors;
    const all: tf.Tensor[] = [];
    const y = run(x, g, b, all);
    tf.dispose([y, ...all]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, g, b]);
  });

  test.each(runs)('%s: tf.grads', (_n, shape, run, channelAxis) => {
    const x = tf.randomNormal(shape);
    const C = shape[channelAxis];
    const g = tf.randomNormal([C]);
    const b = tf.randomNormal([C]);
    const before = tf.memory().numTensors;
    const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.square(run(xx, g, b))))(x);
    expect(tf.memory().numTensors).toBe(before + 1);
    dx.dispose();
    const xv = tf.variable(x);
    const {value, grads: vg} = tf.variableGrads(() => tf.sum(tf.square(run(xv, g, b))) as tf.Scalar, [xv]);
    tf.dispose([value, xv, ...Object.values(vg)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, g, b]);
  });

  test('batchNorm returns mean and variance that the caller owns', () => {
    const x = tf.randomNormal([8, 3]);
    const before = tf.memory().numTensors;
    const r = batchNorm(x, {training: true});
    expect(tf.memory().numTensors).toBe(before + 3);
    tf.dispose([r.y, r.mean, r.variance]);
    const mean = tf.zeros([3]) as tf.Tensor1D;
    const variance = tf.ones([3]) as tf.Tensor1D;
    const before2 = tf.memory().numTensors;
    // Inference returns the caller's own statistics: only y is new (test/ops/inference_statistics.test.ts).
    const r2 = batchNorm(x, {training: false, mean, variance});
    r2.y.dispose();
    expect(tf.memory().numTensors).toBe(before2);
    expect(mean.isDisposed).toBe(false);
    tf.dispose([x, mean, variance]);
  });
});
