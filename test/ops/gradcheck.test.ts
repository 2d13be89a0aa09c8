/**
 * Finite-difference checks of every gradient (directional central differences in float32),
 * including gradients through batchNorm's returned mean/variance and the moments kernel.
 */
import * as tf from '@tensorflow/tfjs';
import {batchNorm, groupNorm, instanceNorm, kernelNames, layerNorm} from '../../src/index.js';
import {runKernel} from '../../src/run_kernel.js';
import {useTestBackend} from '../support/backend.js';

beforeAll(async () => {
  await useTestBackend(tf);
});

/** Returns [analytic, numeric] directional derivatives of f at xs along a random direction. */
function directional(f: (...xs: tf.Tensor[]) => tf.Scalar, xs: tf.Tensor[], h = 1e-2): [number, number] {
  return tf.tidy(() => {
    const dirs = xs.map((x) => tf.randomNormal(x.shape, 0, 1, 'float32', 7));
    const grads = tf.grads(f)(xs);
    let analytic = 0;
    grads.forEach((g, i) => { analytic += tf.sum(tf.mul(g, dirs[i])).dataSync()[0]; });
    const at = (s: number) => f(...xs.map((x, i) => tf.add(x, tf.mul(dirs[i], s)))).dataSync()[0];
    return [analytic, (at(h) - at(-h)) / (2 * h)];
  });
}

function expectClose([a, n]: [number, number]) {
  expect(Math.abs(a - n)).toBeLessThanOrEqual(1e-2 * Math.max(1, Math.abs(n)));
}

const w = (shape: number[]) => tf.randomNormal(shape, 0, 1, 'float32', 3);

describe('finite differences', () => {
  test.each([
    ['NHWC', [5, 3, 4], 4], ['NCHW', [5, 4, 3, 2], 4],
  ] as const)('batchNorm training %s with elu, w.r.t. x, gamma, beta', (fmt, shape, C) => {
    const x = tf.randomNormal([...shape], 0, 2, 'float32', 1);
    const W = w([...shape]);
    const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(
        batchNorm(xx, {training: true, gamma: g, beta: b, dataFormat: fmt, activation: 'elu'}).y, W)) as tf.Scalar;
    expectClose(directional(f, [x, tf.randomNormal([C], 0, 1, 'float32', 11), tf.randomNormal([C], 0, 1, 'float32', 12)]));
  });

  test('batchNorm inference w.r.t. x, gamma, beta, mean and variance', () => {
    const x = tf.randomNormal([6, 3], 0, 1, 'float32', 101);
    const W = w([6, 3]);
    const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor, m: tf.Tensor, v: tf.Tensor) => tf.sum(tf.mul(
        batchNorm(xx, {training: false, gamma: g, beta: b, mean: m as tf.Tensor1D, variance: v as tf.Tensor1D,
          activation: 'elu'}).y, W)) as tf.Scalar;
    expectClose(directional(f, [x, tf.randomNormal([3], 0, 1, 'float32', 102), tf.randomNormal([3], 0, 1, 'float32', 103), tf.randomNormal([3], 0, 1, 'float32', 104),
      tf.add(tf.randomUniform([3], 0, 1, 'float32', 99), 1)]));
  });

  test('through the returned batch mean and variance', () => {
    const x = tf.randomNormal([7, 2, 3], 0, 1, 'float32', 5);
    const f = (xx: tf.Tensor) => {
      const r = batchNorm(xx, {training: true, dataFormat: 'NCHW'});
      return tf.add(tf.sum(tf.mul(r.y, w([7, 2, 3]))), tf.sum(tf.mul(r.mean, tf.tensor1d([2, -1]))))
          .add(tf.sum(tf.mul(r.variance, tf.tensor1d([0.5, 3])))) as tf.Scalar;
    };
    expectClose(directional(f, [x]));
    // And against tf.moments' own gradient.
    const g1 = tf.grad((xx: tf.Tensor) => {
      const r = batchNorm(xx, {training: true, dataFormat: 'NCHW'});
      return tf.add(tf.sum(tf.mul(r.mean, tf.tensor1d([2, -1]))), tf.sum(tf.mul(r.variance, tf.tensor1d([0.5, 3]))));
    })(x);
    const g2 = tf.grad((xx: tf.Tensor) => {
      const m = tf.moments(xx, [0, 2]);
      return tf.add(tf.sum(tf.mul(m.mean, tf.tensor1d([2, -1]))), tf.sum(tf.mul(m.variance, tf.tensor1d([0.5, 3]))));
    })(x);
    expect(tf.max(tf.abs(tf.sub(g1, g2))).dataSync()[0]).toBeLessThan(1e-5);
  });

  test('layerNorm over two axes w.r.t. x, gamma, beta', () => {
    const x = tf.randomNormal([3, 4, 5], 0, 1, 'float32', 105);
    const W = w([3, 4, 5]);
    const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(layerNorm(xx, {axes: [-2, -1], gamma: g, beta: b}), W)) as tf.Scalar;
    expectClose(directional(f, [x, tf.randomNormal([4, 5], 0, 1, 'float32', 106), tf.randomNormal([4, 5], 0, 1, 'float32', 107)]));
  });

  test.each(['NHWC', 'NCHW'] as const)('groupNorm and instanceNorm %s', (fmt) => {
    const x = tf.randomNormal([2, 6, 3, 6], 0, 1, 'float32', 108);
    const W = w([2, 6, 3, 6]);
    const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.add(
        tf.sum(tf.mul(groupNorm(xx, {groups: 3, gamma: g, beta: b, dataFormat: fmt, activation: 'elu'}), W)),
        tf.sum(tf.mul(instanceNorm(xx, {gamma: g, beta: b, dataFormat: fmt}), W))) as tf.Scalar;
    expectClose(directional(f, [x, tf.randomNormal([6], 0, 1, 'float32', 109), tf.randomNormal([6], 0, 1, 'float32', 110)]));
  });

  test('the moments kernel (used by SyncBatchNorm) against tf.moments', () => {
    const x = tf.randomNormal([4, 3, 5], 0, 1, 'float32', 111);
    const attrs = {layout: 'NCS', batchAxes: 1, channelAxes: 1, groups: 3, perSample: false};
    const loss = (m: tf.Tensor, v: tf.Tensor) =>
      tf.add(tf.sum(tf.mul(m, tf.tensor1d([1, -2, 3]))), tf.sum(tf.mul(v, tf.tensor1d([0.5, 1, -1]))));
    const g1 = tf.grad((xx: tf.Tensor) => {
      const [m, v] = runKernel(kernelNames.NormsMoments, {x: xx}, attrs) as tf.Tensor[];
      return loss(m, v);
    })(x);
    const g2 = tf.grad((xx: tf.Tensor) => {
      const m = tf.moments(xx, [0, 2]);
      return loss(m.mean, m.variance);
    })(x);
    expect(tf.max(tf.abs(tf.sub(g1, g2))).dataSync()[0]).toBeLessThan(1e-5);
  });
});
