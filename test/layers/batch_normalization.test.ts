/**
 * The batch-norm layers: moving statistics under each convention against PyTorch and the Keras
 * formula, Paddle's useGlobalStats/trainableStatistics, what hurts in tfjs-layers today
 * (center/scale false, NCHW backward, leaks), and argument errors.
 */
import * as tf from '@tensorflow/tfjs';
import {batchNorm, layers} from '../../src/index.js';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {useTestBackend} from '../support/backend.js';

beforeAll(async () => {
  await useTestBackend(tf);
});

interface MovingCase {
  name: string;
  oracle: string;
  layer: Record<string, unknown>;
  batches: Array<{shape: number[]; data: number[]}>;
  after: Array<{mean: number[]; variance: number[]}>;
}
const moving: MovingCase[] = JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'moving_stats.json'), 'utf8')).cases;

describe('moving statistics', () => {
  test.each(moving.map((c) => [`${c.name} (${c.oracle})`, c] as const))('%s', (_n, c) => {
    const layer = layers.batchNormalization(c.layer as never);
    c.batches.forEach((b, i) => {
      tf.tidy(() => { layer.apply(tf.tensor(b.data, b.shape), {training: true}); });
      const [, , movingMean, movingVariance] = layer.getWeights();
      const close = (got: Float32Array | Int32Array | Uint8Array, want: number[]) =>
        want.forEach((w, j) => expect(got[j]).toBeCloseTo(w, 5));
      close(movingMean.dataSync(), c.after[i].mean);
      close(movingVariance.dataSync(), c.after[i].variance);
    });
    layer.dispose();
  });

  test('inference uses the moving statistics and does not change them', () => {
    const layer = layers.batchNormalization({momentum: 0.5});
    const x = tf.randomNormal([16, 3], 2, 3, 'float32', 1);
    tf.tidy(() => { layer.apply(x, {training: true}); });
    const before = layer.getWeights().map((w) => Array.from(w.dataSync()));
    const y = layer.apply(x, {training: false}) as tf.Tensor;
    const [gamma, beta, mean, variance] = layer.getWeights();
    const expected = batchNorm(x, {training: false, gamma, beta, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, epsilon: 1e-3}).y;
    expect(tf.max(tf.abs(tf.sub(y, expected))).dataSync()[0]).toBe(0);
    expect(layer.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
  });

  test('useGlobalStats: moving statistics in training too, no update', () => {
    const layer = layers.batchNormalization({useGlobalStats: true});
    const x = tf.randomNormal([16, 3], 5, 2, 'float32', 2);
    const y = layer.apply(x, {training: true}) as tf.Tensor;
    // moving mean 0, variance 1: y = x / sqrt(1 + eps)
    expect(tf.max(tf.abs(tf.sub(y, tf.div(x, Math.sqrt(1 + 1e-3))))).dataSync()[0]).toBeLessThan(1e-5);
    expect(Array.from(layer.getWeights()[2].dataSync())).toEqual([0, 0, 0]);
  });

  test('trainableStatistics: batch statistics in inference too', () => {
    const layer = layers.batchNormalization({trainableStatistics: true});
    const x = tf.randomNormal([16, 3], 5, 2, 'float32', 3);
    const y = layer.apply(x, {training: false}) as tf.Tensor;
    const ref = batchNorm(x, {training: true, epsilon: 1e-3}).y;
    expect(tf.max(tf.abs(tf.sub(y, ref))).dataSync()[0]).toBeLessThan(1e-6);
    expect(Array.from(layer.getWeights()[2].dataSync())).toEqual([0, 0, 0]);
  });
});

describe('what tfjs-layers gets wrong today', () => {
  test('center: false and scale: false train (tensorflow/tfjs#5939)', () => {
    for (const args of [{center: false}, {scale: false}, {center: false, scale: false}]) {
      const layer = layers.batchNormalization(args);
      const x = tf.variable(tf.randomNormal([8, 4]));
      layer.apply(x, {training: true});
      const vars = [x, ...layer.trainableWeights.map((w) => w.read() as tf.Variable)];
      const {grads} = tf.variableGrads(() => tf.sum(tf.square(layer.apply(x, {training: true}) as tf.Tensor)) as tf.Scalar, vars);
      expect(Object.keys(grads).length).toBe(1 + (args.center === false ? 0 : 1) + ('scale' in args ? 0 : 1));
    }
  });

  test('NCHW (axis: 1) forward and backward', () => {
    const x = tf.randomNormal([4, 6, 5, 5]);
    const ours = layers.batchNormalization({axis: 1});
    const theirs = tf.layers.batchNormalization({axis: 1});
    const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.square(ours.apply(xx, {training: true}) as tf.Tensor)))(x);
    expect(dx.shape).toEqual([4, 6, 5, 5]);
    expect(() => tf.grad((xx: tf.Tensor) => tf.sum(theirs.apply(xx, {training: true}) as tf.Tensor))(x))
        .toThrow(/must match the product of shape/);
  });

  test('apply(x, {training: true}) leaks nothing (tensorflow/tfjs#7983)', () => {
    const layer = layers.batchNormalization({});
    const x = tf.randomNormal([8, 3]);
    tf.dispose(layer.apply(x, {training: true}) as tf.Tensor);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.dispose(layer.apply(x, {training: true}) as tf.Tensor);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('argument errors', () => {
  test.each([
    ['unknown option', () => layers.batchNormalization({moment: 0.9} as never), /batchNormalization: unknown argument 'moment'/],
    ['momentum out of range', () => layers.batchNormalization({momentum: 2}), /'momentum' must be in \[0, 1\] or null/],
    ['axis out of range', () => layers.batchNormalization({axis: 5}).apply(tf.ones([2, 3])), /'axis' 5 is out of range for inputs of rank 2/],
    ['axis not a channel axis', () => layers.batchNormalization({axis: 2}).apply(tf.ones([2, 3, 4, 5])),
      /'axis' must be the channel axis, 1 \(channels first\) or -1 \(channels last\), got 2/],
    ['groups not dividing C', () => layers.groupNormalization({groups: 3}).apply(tf.ones([2, 4, 4])),
      /groupNormalization: 'groups' \(3\) must divide the number of channels \(4\)/],
    ['groups invalid', () => layers.groupNormalization({groups: 0}), /'groups' must be a positive integer or -1/],
    ['layerNormalization axis out of range', () => layers.layerNormalization({axis: 3}).apply(tf.ones([2, 3, 4])),
      /layerNormalization: 'axis' 3 must name distinct axes of inputs of rank 3/],
    ['layerNormalization unknown option', () => layers.layerNormalization({groups: 2} as never), /unknown argument 'groups'/],
    ['inPlaceABN relu', () => layers.inPlaceABN({activation: 'relu'}),
      /inPlaceABN: 'activation' must be one of 'leakyRelu', 'elu', 'linear', got "relu"/],
    ['inPlaceABN slope 0', () => layers.inPlaceABN({alpha: 0}), /inPlaceABN: a leakyRelu slope \('alpha'\) of 0 is not invertible/],
    ['inPlaceABN elu alpha 0', () => layers.inPlaceABN({activation: 'elu', alpha: 0}), /inPlaceABN: elu needs 'alpha' > 0/],
    ['unknown initializer', () => layers.batchNormalization({gammaInitializer: 'nope'}), /Unknown initializer/],
  ] as const)('%s', (_n, fn, message) => {
    expect(fn).toThrow(message);
  });
});
