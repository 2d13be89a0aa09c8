/**
 * Layer options follow the ops' rules (src/ops/validate.ts) and are checked when the layer is
 * constructed, not at its first call; a channel `axis` may be an integer or Keras's one-element
 * list, and messages print values as given.
 */
import * as tf from '@tensorflow/tfjs';
import {batchNorm, inplaceABN, layers} from '../../src/index.js';
import {useTestBackend} from '../support/backend.js';

beforeAll(async () => {
  await useTestBackend(tf);
});

/** The message an op gives for the same bad value, with the op's name swapped for the layer's. */
function opMessage(f: () => unknown, opName: string, layerName: string): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message.replace(`${opName}:`, `${layerName}:`);
  }
  throw new Error('the op accepted it');
}

const x = () => tf.ones([4, 3]);

describe('constructor checks with the ops\' rules and messages', () => {
  test.each([
    ['activation', {activation: 'tanh'}],
    ['alpha NaN', {activation: 'leakyRelu', alpha: NaN}],
    ['alpha string', {activation: 'elu', alpha: '1'}],
    ['epsilon Infinity', {epsilon: Infinity}],
    ['epsilon negative', {epsilon: -1}],
  ] as const)('batchNormalization %s', (_n, opts) => {
    const expected = opMessage(() => batchNorm(x(), {training: true, ...opts} as never), 'batchNorm', 'batchNormalization');
    expect(() => layers.batchNormalization(opts as never)).toThrow(expected);
    expect(() => layers.syncBatchNormalization(opts as never)).toThrow(expected.replace('batchNormalization:', 'syncBatchNormalization:'));
  });

  test.each([
    ['relu', {activation: 'relu'}],
    ['leakyRelu slope 0', {alpha: 0}],
    ['elu alpha -1', {activation: 'elu', alpha: -1}],
  ] as const)('inPlaceABN %s', (_n, opts) => {
    const expected = opMessage(() => inplaceABN(x(), {training: true, ...opts} as never), 'inplaceABN', 'inPlaceABN');
    expect(() => layers.inPlaceABN(opts as never)).toThrow(expected);
  });

  test.each([
    ['batchNormalization', (a: object) => layers.batchNormalization(a)],
    ['layerNormalization', (a: object) => layers.layerNormalization(a)],
    ['groupNormalization', (a: object) => layers.groupNormalization({groups: 1, ...a})],
    ['instanceNormalization', (a: object) => layers.instanceNormalization(a)],
    ['inPlaceABN', (a: object) => layers.inPlaceABN(a)],
  ] as const)('%s: center, scale and epsilon', (name, make) => {
    expect(() => make({center: 'yes'})).toThrow(`${name}: 'center' must be true or false, got "yes"`);
    expect(() => make({scale: 1})).toThrow(`${name}: 'scale' must be true or false, got 1`);
    expect(() => make({epsilon: Infinity})).toThrow(`${name}: 'epsilon' must be a finite number >= 0, got Infinity`);
  });

  test('defaults are the ops\' defaults', () => {
    expect(layers.batchNormalization({activation: 'leakyRelu'}).alpha).toBe(0.01);
    expect(layers.batchNormalization({activation: 'elu'}).alpha).toBe(1);
    expect(layers.inPlaceABN().alpha).toBe(0.01);
    expect(layers.inPlaceABN().activation).toBe('leakyRelu');
    expect(layers.batchNormalization().epsilon).toBe(1e-3);
  });
});

describe('axis as an integer or a one-element list', () => {
  const data = tf.randomNormal([3, 2, 2, 4], 0, 1, 'float32', 1);
  test.each([
    ['batchNormalization', (axis: unknown) => layers.batchNormalization({axis} as never)],
    ['syncBatchNormalization', (axis: unknown) => layers.syncBatchNormalization({axis} as never)],
    ['groupNormalization', (axis: unknown) => layers.groupNormalization({groups: 2, axis} as never)],
    ['instanceNormalization', (axis: unknown) => layers.instanceNormalization({axis} as never)],
    ['inPlaceABN', (axis: unknown) => layers.inPlaceABN({axis} as never)],
    ['layerNormalization', (axis: unknown) => layers.layerNormalization({axis} as never)],
  ] as const)('%s: [3] computes what 3 and -1 compute, and keeps [3] in its config', (name, make) => {
    const results = [3, -1, [3]].map((axis) => {
      const layer = make(axis);
      const y = layer.apply(data, {training: true}) as tf.Tensor;
      return {y: Array.from(y.dataSync()), axis: layer.getConfig().axis};
    });
    expect(results[2].y).toEqual(results[0].y);
    expect(results[1].y).toEqual(results[0].y);
    expect(results[2].axis).toEqual([3]);
    // Channels first with [1] (the layer-norm list names trailing axes instead).
    if (name !== 'layerNormalization') {
      const nchw = tf.transpose(data, [0, 3, 1, 2]);
      const a = make([1]).apply(nchw, {training: true}) as tf.Tensor;
      const b = tf.transpose(make(-1).apply(data, {training: true}) as tf.Tensor, [0, 3, 1, 2]);
      expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-5);
    }
  });

  test.each([
    ['a two-element list', () => layers.batchNormalization({axis: [1, 3]}),
      /batchNormalization: 'axis' must be one channel axis, an integer or a one-element list, got \[1,3\]/],
    ['a string', () => layers.groupNormalization({axis: '3'} as never), /groupNormalization: 'axis' must be one channel axis.*got "3"/],
    ['[3] out of range', () => layers.batchNormalization({axis: [3]}).apply(tf.ones([2, 3])),
      /batchNormalization: 'axis' \[3\] is out of range for inputs of rank 2/],
    ['[2] not a channel axis', () => layers.batchNormalization({axis: [2]}).apply(tf.ones([2, 3, 4, 5])),
      /'axis' must be the channel axis, 1 \(channels first\) or -1 \(channels last\), got \[2\]/],
    ['layerNormalization empty list', () => layers.layerNormalization({axis: []}),
      /layerNormalization: 'axis' must be an integer or a non-empty list of integers, got \[\]/],
    ['layerNormalization [1, 1]', () => layers.layerNormalization({axis: [1, 1]}).apply(tf.ones([2, 3, 4])),
      /layerNormalization: 'axis' \[1,1\] must name distinct axes of inputs of rank 3/],
  ] as const)('%s: the message prints the value as given', (_n, fn, message) => {
    expect(fn).toThrow(message);
  });
});

test.each([
  ['[1] of rank 3', [1], [2, 3, 4]],
  ['[1, 2] of rank 4', [1, 2], [2, 3, 4, 5]],
  ['[2, 1] (given order) of rank 4', [2, 1], [2, 3, 4, 5]],
  ['[-1, -2] (trailing, unsorted) of rank 3', [-1, -2], [2, 3, 4]],
])('layerNormalization over axes %s: what tfjs-layers computes, with the same weights', (_n, axis, shape) => {
  const x = tf.randomNormal(shape, 1, 2, 'float32', 5);
  const ours = layers.layerNormalization({axis});
  const theirs = tf.layers.layerNormalization({axis});
  ours.build(x.shape);
  theirs.build(x.shape);
  expect(ours.getWeights().map((w) => w.shape)).toEqual(theirs.getWeights().map((w) => w.shape));
  const weights = theirs.getWeights().map((w, i) => tf.randomNormal(w.shape, i, 1, 'float32', 6 + i));
  ours.setWeights(weights);
  theirs.setWeights(weights);
  const a = ours.apply(x) as tf.Tensor;
  const b = theirs.apply(x) as tf.Tensor;
  expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]).toBeLessThan(1e-4);
  // And it trains: gradients reach x, gamma and beta.
  const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.square(tf.mul(ours.apply(xx) as tf.Tensor, tf.range(0, xx.size).reshape(xx.shape)))))(x);
  const {grads} = tf.variableGrads(() => tf.sum(tf.square(tf.mul(ours.apply(x) as tf.Tensor, tf.range(0, x.size).reshape(x.shape)))) as tf.Scalar);
  expect(Object.keys(grads).length).toBe(2);
  for (const g of [dx, ...Object.values(grads)]) expect(Number.isFinite(tf.sum(tf.abs(g)).dataSync()[0])).toBe(true);
});
