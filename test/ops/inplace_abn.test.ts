/**
 * inplaceABN: the values and gradients of batchNorm with the same invertible activation
 * (PyTorch fixtures), computed backward from y only; inPlace releases x; errors.
 */
import * as tf from '@tensorflow/tfjs';
import {batchNorm, inplaceABN} from '../../src/index.js';
import {checkCase, type NormOps} from '../support/fixtures.js';
import {loadFixtures} from '../support/load.js';
import {useTestBackend} from '../support/backend.js';

beforeAll(async () => {
  await useTestBackend(tf);
});

const invertible = loadFixtures('batch_norm').cases.filter((c) => c.opts.activation !== 'relu');
// inplaceABN's default activation is leakyRelu; batchNorm's is linear: say it explicitly.
const asABN: NormOps = {
  batchNorm: (x: tf.Tensor, o: object) => inplaceABN(x, {activation: 'linear', ...o} as never),
} as unknown as NormOps;

test.each(invertible.map((c) => [c.name, c] as const))('%s', (_n, c) => {
  const before = tf.memory().numTensors;
  expect(checkCase(tf, asABN, c)).toEqual([]);
  expect(tf.memory().numTensors).toBe(before);
});

test('the gradient does not keep x: only y, gamma, beta and the statistics are saved', () => {
  const x = tf.randomNormal([6, 4], 0, 1, 'float32', 1);
  const gamma = tf.tensor1d([1, -2, 0.5, 3]);
  const dy = tf.randomNormal([6, 4], 0, 1, 'float32', 2);
  // x is produced inside the gradient function and released by inPlace: the gradient must not need it.
  const [dxa, dga] = tf.grads((xx: tf.Tensor, g: tf.Tensor) =>
    inplaceABN(tf.mul(xx, 1), {training: true, gamma: g, inPlace: true}).y)([x, gamma], dy);
  const [dxb, dgb] = tf.grads((xx: tf.Tensor, g: tf.Tensor) =>
    batchNorm(xx, {training: true, gamma: g, activation: 'leakyRelu'}).y)([x, gamma], dy);
  expect(tf.max(tf.abs(tf.sub(dxa, dxb))).dataSync()[0]).toBeLessThan(1e-5);
  expect(tf.max(tf.abs(tf.sub(dga, dgb))).dataSync()[0]).toBeLessThan(1e-5);
});

test('inPlace: x is released once y exists, and using it again is a clear error', () => {
  const x = tf.randomNormal([64, 8]);
  const bytes = tf.memory().numBytes;
  const {y, mean, variance} = inplaceABN(x, {training: true, inPlace: true});
  expect(x.isDisposed).toBe(true);
  expect(tf.memory().numBytes).toBe(bytes + 8 * 2 * 4);
  expect(() => tf.add(x, 1)).toThrow(/inplaceABN: this tensor \(shape \[64,8\]\) was released by 'inPlace: true' and must not be used again/);
  expect(() => x.add(1)).toThrow(/was released by 'inPlace: true'/);
  expect(() => x.dataSync()).toThrow(/was released by 'inPlace: true'/);
  x.dispose();
  tf.dispose([y, mean, variance]);
});

test('a gamma of zero keeps the backward pass finite', () => {
  const x = tf.randomNormal([8, 2]);
  const g = tf.grads((xx: tf.Tensor, gg: tf.Tensor) => inplaceABN(xx, {training: true, gamma: gg}).y)([x, tf.tensor1d([0, 1])]);
  for (const t of g) expect(Array.from(t.dataSync()).every(Number.isFinite)).toBe(true);
});

test.each([
  ['relu', {activation: 'relu'}, /'activation' must be one of 'leakyRelu', 'elu', 'linear', got "relu"/],
  ['slope 0', {alpha: 0}, /leakyRelu slope \('alpha'\) of 0 is not invertible/],
  ['negative slope', {alpha: -0.5}, /negative leakyRelu slope \('alpha' -0.5\) is not invertible/],
  ['elu alpha 0', {activation: 'elu', alpha: 0}, /elu needs 'alpha' > 0/],
  ['no training', {training: undefined}, /'training' must be true or false/],
  ['inference without statistics', {training: false}, /'mean' and 'variance' are required/],
] as const)('error: %s', (_n, opts, message) => {
  expect(() => inplaceABN(tf.ones([4, 2]), {training: true, ...opts} as never)).toThrow(message);
});
