/** BatchNormalization with Batch Renormalization (Keras's renorm, renorm_clipping, renorm_momentum). */
import * as tf from '@tensorflow/tfjs';
import {batchNorm, convert, layers} from '../../src/index.js';
import {DTYPE_POLICY, kerasSequential, saveToMemory} from '../support/model_io.js';
import {useTestBackend} from '../support/backend.js';

const last = (m: tf.LayersModel) => m.layers[m.layers.length - 1];

beforeAll(async () => {
  await useTestBackend(tf);
});

const read = (l: tf.layers.Layer, suffix: string) => Array.from(l.weights.find((w) => new RegExp(`/${suffix}(_\\d+)?$`).test(w.name))!.read().dataSync());
const close = (a: number[], b: number[], tol = 1e-5) => a.every((v, i) => Math.abs(v - b[i]) <= tol * (1 + Math.abs(b[i])));

test('weights renorm_mean (0) and renorm_stddev (1) after the moving statistics, non-trainable', () => {
  const layer = layers.batchNormalization({renorm: true});
  layer.apply(tf.ones([2, 3]));
  expect(layer.weights.map((w) => [w.name.split('/').pop(), w.trainable])).toEqual([
    ['gamma', true], ['beta', true], ['moving_mean', false], ['moving_variance', false],
    ['renorm_mean', false], ['renorm_stddev', false]]);
  expect(read(layer, 'renorm_mean')).toEqual([0, 0, 0]);
  expect(read(layer, 'renorm_stddev')).toEqual([1, 1, 1]);
});

test('a training step normalizes with r, d from renorm_mean/stddev, then updates every statistic', () => {
  const clip = {rmax: 1.5, rmin: 0.5, dmax: 0.2};
  const layer = layers.batchNormalization({renorm: true, renormClipping: clip, renormMomentum: 0.9, momentum: 0.8,
    axis: 1, gammaInitializer: tf.initializers.randomNormal({mean: 1, stddev: 0.3, seed: 1})});
  const x = tf.randomNormal([6, 4, 3, 2], 1, 2, 'float32', 2);
  layer.apply(x); // build
  const gamma = layer.weights[0].read().clone();
  const y = layer.apply(x, {training: true}) as tf.Tensor;
  const ref = batchNorm(x, {training: true, gamma, beta: tf.zeros([4]), epsilon: 1e-3, dataFormat: 'NCHW',
    renorm: {mean: tf.zeros([4]) as tf.Tensor1D, stddev: tf.ones([4]) as tf.Tensor1D, rMax: 1.5, rMin: 0.5, dMax: 0.2}});
  expect(tf.max(tf.abs(tf.sub(y, ref.y))).dataSync()[0]).toBeLessThan(1e-6);
  const mu = Array.from(ref.mean.dataSync());
  const v = Array.from(ref.variance.dataSync());
  expect(close(read(layer, 'renorm_mean'), mu.map((m) => 0.1 * m))).toBe(true);
  expect(close(read(layer, 'renorm_stddev'), v.map((s) => 0.9 + 0.1 * Math.sqrt(s + 1e-3)))).toBe(true);
  expect(close(read(layer, 'moving_mean'), mu.map((m) => 0.2 * m))).toBe(true);
  expect(close(read(layer, 'moving_variance'), v.map((s) => 0.8 + 0.2 * s))).toBe(true);
  // Inference uses the moving statistics as usual.
  const yi = layer.apply(x, {training: false}) as tf.Tensor;
  const refI = batchNorm(x, {training: false, gamma, beta: tf.zeros([4]), epsilon: 1e-3, dataFormat: 'NCHW',
    mean: tf.tensor1d(read(layer, 'moving_mean')), variance: tf.tensor1d(read(layer, 'moving_variance'))}).y;
  expect(tf.max(tf.abs(tf.sub(yi, refI))).dataSync()[0]).toBeLessThan(1e-6);
});

test('config round trip; renorm off leaves the config as before', async () => {
  const on = layers.batchNormalization({renorm: true, renormClipping: {rmax: 3, dmax: 5}});
  expect(on.getConfig()).toMatchObject({renorm: true, renormClipping: {rmax: 3, dmax: 5}, renormMomentum: 0.99});
  expect(layers.batchNormalization().getConfig()).not.toHaveProperty('renorm');
  const model = tf.sequential({layers: [tf.layers.inputLayer({inputShape: [3]}), on]});
  model.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
  const x = tf.randomNormal([8, 3], 2, 3, 'float32', 3);
  await model.fit(x, tf.zeros([8, 3]), {epochs: 2, verbose: 0});
  const a = await saveToMemory(tf, model);
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(a));
  expect(last(loaded).getConfig()).toEqual(last(model).getConfig());
  expect(read(last(loaded), 'renorm_stddev')).toEqual(read(last(model), 'renorm_stddev'));
  expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
});

test('a Keras model.json with renorm: true (snake_case renorm_clipping, renorm_momentum) loads and trains', async () => {
  const w = (v: number) => tf.fill([3], v);
  const model = await tf.loadLayersModel(kerasSequential(tf, [3], {
    class_name: 'NormsBatchNormalization',
    config: {name: 'bn', trainable: true, dtype: DTYPE_POLICY, axis: -1, momentum: 0.99, epsilon: 0.001, center: true,
      scale: true, beta_initializer: {class_name: 'Zeros', config: {}}, gamma_initializer: {class_name: 'Ones', config: {}},
      moving_mean_initializer: {class_name: 'Zeros', config: {}}, moving_variance_initializer: {class_name: 'Ones', config: {}},
      beta_regularizer: null, gamma_regularizer: null, beta_constraint: null, gamma_constraint: null,
      renorm: true, renorm_clipping: {rmax: 3, rmin: 0.3333, dmax: 5}, renorm_momentum: 0.9, fused: null,
      virtual_batch_size: null, adjustment: null, synchronized: false},
  }, {gamma: w(1.5), beta: w(0.5), moving_mean: w(0.1), moving_variance: w(2), renorm_mean: w(0.2), renorm_stddev: w(1.2)}));
  const layer = last(model);
  expect(layer.getConfig()).toMatchObject({renorm: true, renormClipping: {rmax: 3, rmin: 0.3333, dmax: 5}, renormMomentum: 0.9});
  expect(read(layer, 'renorm_stddev')).toEqual([1.2, 1.2, 1.2].map(Math.fround));
  model.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
  const x = tf.randomNormal([8, 3], 2, 3, 'float32', 4);
  const h = await model.fit(x, tf.zeros([8, 3]), {epochs: 1, verbose: 0});
  expect(Number.isFinite(h.history.loss[0] as number)).toBe(true);
  expect(read(layer, 'renorm_stddev').every((s) => s !== Math.fround(1.2))).toBe(true);
});

test('renorm is rejected where it has no meaning, with clear errors', async () => {
  expect(() => layers.batchNormalization({renormClipping: {rmax: 2}})).toThrow(/'renormClipping' and 'renormMomentum' need 'renorm: true'/);
  expect(() => layers.batchNormalization({renorm: true, renormClipping: {rMax: 2} as never})).toThrow(/unknown key 'rMax' in 'renormClipping'/);
  expect(() => layers.syncBatchNormalization({renorm: true})).toThrow(/syncBatchNormalization: 'renorm' is not supported/);
  expect(() => layers.inPlaceABN({renorm: true})).toThrow(/inPlaceABN: 'renorm' is not supported/);
  const model = tf.sequential({layers: [tf.layers.inputLayer({inputShape: [3]}), layers.batchNormalization({renorm: true, name: 'rbn'})]});
  await expect(convert.toSyncBatchNorm(model)).rejects.toThrow(/layer 'rbn' uses Batch Renormalization/);
});
