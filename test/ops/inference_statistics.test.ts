/**
 * In inference, batchNorm, inplaceABN and sparseBatchNorm return the caller's `mean` and
 * `variance` tensors themselves (API.md): nothing but the output is new, so disposing it alone
 * leaks nothing, inside or outside tf.tidy, and gradients still reach mean and variance.
 */
import * as tf from '@tensorflow/tfjs';
import {batchNorm, inplaceABN, sparseBatchNorm} from '../../src/index.js';
import {useTestBackend} from '../support/backend.js';

beforeAll(async () => {
  await useTestBackend(tf);
});

const stats = () => ({
  mean: tf.tensor1d([0.5, -1, 2]),
  variance: tf.tensor1d([1, 4, 0.25]),
  gamma: tf.tensor1d([1, 2, -1]),
  beta: tf.tensor1d([0, 1, 0.5]),
});

type Infer = (x: tf.Tensor, s: ReturnType<typeof stats>) => {out: tf.Tensor[]; mean: tf.Tensor; variance: tf.Tensor};
const ops: Array<[string, Infer]> = [
  ['batchNorm', (x, s) => {
    const r = batchNorm(x, {training: false, ...s});
    return {out: [r.y], mean: r.mean, variance: r.variance};
  }],
  ['batchNorm NCHW with elu', (x, s) => {
    const r = batchNorm(tf.transpose(x, [0, 3, 1, 2]), {training: false, dataFormat: 'NCHW', activation: 'elu', ...s});
    return {out: [r.y], mean: r.mean, variance: r.variance};
  }],
  ['inplaceABN', (x, s) => {
    const r = inplaceABN(x, {training: false, ...s});
    return {out: [r.y], mean: r.mean, variance: r.variance};
  }],
  ['sparseBatchNorm', (x, s) => {
    const values = tf.reshape(x, [-1, 3]) as tf.Tensor2D;
    const indices = tf.tensor2d([Array.from({length: values.shape[0]}, (_, i) => i)], undefined, 'int32');
    const r = sparseBatchNorm({indices, values, shape: [values.shape[0], 3]}, {training: false, ...s});
    return {out: [r.output.values, r.output.indices], mean: r.mean, variance: r.variance};
  }],
];

describe.each(ops)('%s in inference', (_name, infer) => {
  test('returns the given mean and variance objects; disposing the output alone leaks nothing', () => {
    const s = stats();
    const x = tf.randomNormal([2, 2, 2, 3], 0, 1, 'float32', 1);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      // Outside any tidy, as a user would call it in a loop.
      const r = tf.tidy(() => {
        const res = infer(x, s);
        expect(res.mean).toBe(s.mean);
        expect(res.variance).toBe(s.variance);
        return res.out;
      });
      tf.dispose(r);
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(s.mean.isDisposed).toBe(false);
    expect(s.variance.isDisposed).toBe(false);
    tf.dispose([x, ...Object.values(s)]);
  });
});

test('batchNorm outside tf.tidy: only y is new', () => {
  const s = stats();
  const x = tf.randomNormal([4, 3], 0, 1, 'float32', 2);
  const before = tf.memory().numTensors;
  const r = batchNorm(x, {training: false, ...s});
  expect(r.mean).toBe(s.mean);
  expect(r.variance).toBe(s.variance);
  expect(tf.memory().numTensors).toBe(before + 1);
  r.y.dispose();
  expect(tf.memory().numTensors).toBe(before);
  // The statistics survive a tidy that returns only y, and one that returns the whole result.
  const y = tf.tidy(() => batchNorm(x, {training: false, ...s}).y);
  const all = tf.tidy(() => ({...batchNorm(x, {training: false, ...s})})) as {y: tf.Tensor; mean: tf.Tensor};
  expect(s.mean.isDisposed).toBe(false);
  expect(all.mean).toBe(s.mean);
  tf.dispose([y, all.y]);
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([x, ...Object.values(s)]);
});

test('gradients reach mean and variance, and equal the formula', () => {
  const s = stats();
  const x = tf.randomNormal([5, 3], 0, 1, 'float32', 3);
  const before = tf.memory().numTensors;
  const [dm, dv] = tf.grads((m: tf.Tensor, v: tf.Tensor) =>
    batchNorm(x, {training: false, mean: m as tf.Tensor1D, variance: v as tf.Tensor1D, gamma: s.gamma, beta: s.beta}).y)(
      [s.mean, s.variance]);
  // y = (x - m) / sqrt(v + eps) * g + b: dy/dm = -g / sqrt(v + eps); dy/dv = -(x - m) g / 2 (v + eps)^1.5, summed over rows.
  const eps = 1e-5;
  const expected = tf.tidy(() => {
    const inv = tf.rsqrt(tf.add(s.variance, eps));
    const em = tf.mul(tf.mul(tf.neg(s.gamma), inv), x.shape[0]);
    const ev = tf.sum(tf.mul(tf.mul(tf.sub(x, s.mean), s.gamma), tf.mul(tf.pow(inv, 3), -0.5)), 0);
    return [em, ev];
  });
  const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
  expect(maxDiff(dm, expected[0])).toBeLessThan(1e-4);
  expect(maxDiff(dv, expected[1])).toBeLessThan(1e-4);
  tf.dispose([dm, dv, ...expected]);
  expect(tf.memory().numTensors).toBe(before);
  // A loss that reads the returned statistics differentiates through them as identities.
  const g = tf.grad((m: tf.Tensor) =>
    tf.sum(batchNorm(x, {training: false, mean: m as tf.Tensor1D, variance: s.variance}).mean))(s.mean);
  expect(Array.from(g.dataSync())).toEqual([1, 1, 1]);
  g.dispose();
  tf.dispose([x, ...Object.values(s)]);
});
