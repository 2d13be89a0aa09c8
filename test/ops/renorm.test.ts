/** Batch Renormalization (`batchNorm` with `renorm`) on the suite's backend against PyTorch autograd. */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import {checkRenormCase, type RenormCase} from '../support/renorm_fixtures.js';
import {loadFixtures} from '../support/load.js';
import {useTestBackend} from '../support/backend.js';

beforeAll(async () => {
  await useTestBackend(tf);
});

const cases = (loadFixtures('renorm') as unknown as {cases: RenormCase[]}).cases;

describe('renorm fixtures (torch autograd, r and d detached)', () => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const before = tf.memory().numTensors;
    expect(checkRenormCase(tf, norms.batchNorm as never, c)).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

test('the partial-clip cases clip r and d on some channels and not on others', () => {
  const partial = cases.filter((c) => c.name.includes('partial_clip'));
  expect(partial.length).toBeGreaterThanOrEqual(4);
  for (const c of partial) {
    const {rMax, rMin, dMax} = c.opts.renorm;
    const lo = rMin ?? 1 / rMax!;
    const r = c.expected.r.data;
    const d = c.expected.d.data;
    const rClipped = r.map((v) => Math.abs(v - rMax!) < 1e-9 || Math.abs(v - lo) < 1e-9);
    const dClipped = d.map((v) => Math.abs(Math.abs(v) - dMax!) < 1e-9);
    expect(rClipped.some(Boolean) && !rClipped.every(Boolean)).toBe(true);
    expect(dClipped.some(Boolean) && !dClipped.every(Boolean)).toBe(true);
  }
});

test('with r = 1 and d = 0 (moving statistics equal to the batch\'s) renorm is plain training', () => {
  const x = tf.randomNormal([6, 5], 1, 2, 'float32', 4);
  const gamma = tf.randomNormal([5], 1, 0.3, 'float32', 5);
  const beta = tf.randomNormal([5], 0, 0.3, 'float32', 6);
  const eps = 1e-3;
  const plain = norms.batchNorm(x, {training: true, gamma, beta, epsilon: eps});
  const stddev = tf.sqrt(tf.add(plain.variance, eps)) as tf.Tensor1D;
  const f = (renorm: boolean) => (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => norms.batchNorm(a, {
    training: true, gamma: g, beta: b, epsilon: eps,
    ...(renorm ? {renorm: {mean: plain.mean, stddev, rMax: 3, dMax: 5}} : {}),
  }).y.square().sum();
  const [ga, gb] = [tf.grads(f(true))([x, gamma, beta]), tf.grads(f(false))([x, gamma, beta])];
  ga.forEach((g, i) => {
    const diff = tf.max(tf.abs(tf.sub(g, gb[i]))).dataSync()[0];
    expect(diff).toBeLessThan(1e-4);
  });
});

describe('renorm errors', () => {
  const x = tf.ones([4, 3]);
  const m = tf.zeros([3]) as tf.Tensor1D;
  const s = tf.ones([3]) as tf.Tensor1D;
  test.each([
    ['inference', () => norms.batchNorm(x, {training: false, mean: m, variance: s, renorm: {mean: m, stddev: s}}),
      /batchNorm: 'renorm' applies only when 'training' is true/],
    ['missing stddev', () => norms.batchNorm(x, {training: true, renorm: {mean: m} as never}),
      /batchNorm: 'renorm.mean' and 'renorm.stddev' are required/],
    ['wrong shape', () => norms.batchNorm(x, {training: true, renorm: {mean: tf.zeros([2]) as tf.Tensor1D, stddev: s}}),
      /batchNorm: 'renorm.mean' must have shape \[3\]/],
    ['rMin > rMax', () => norms.batchNorm(x, {training: true, renorm: {mean: m, stddev: s, rMax: 1, rMin: 2}}),
      /batchNorm: 'renorm.rMin' \(2\) must not exceed 'renorm.rMax' \(1\)/],
    ['unknown key', () => norms.batchNorm(x, {training: true, renorm: {mean: m, stddev: s, rmax: 2} as never}),
      /batchNorm: unknown option 'renorm.rmax'/],
  ])('%s', (_n, f, message) => {
    expect(f).toThrow(message);
  });
});
