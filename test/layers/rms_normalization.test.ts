/** The RMSNormalization layer (Keras 3): weight, output, save/load, Keras configs, fit. */
import * as tf from '@tensorflow/tfjs';
import {layers, rmsNorm} from '../../src/index.js';
import {DTYPE_POLICY, kerasSequential, saveToMemory} from '../support/model_io.js';
import {useTestBackend} from '../support/backend.js';

const last = (m: tf.LayersModel) => m.layers[m.layers.length - 1];

beforeAll(async () => {
  await useTestBackend(tf);
});

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

test('one weight `scale` of the normalized shape (ones); output = rmsNorm(x, scale); epsilon 1e-6', () => {
  const layer = layers.rmsNormalization();
  const x = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 1);
  const y = layer.apply(x) as tf.Tensor;
  expect(layer.getClassName()).toBe('RMSNormalization');
  expect(layer.weights.map((w) => [w.name.split('/').pop(), w.shape, w.trainable])).toEqual([['scale', [8], true]]);
  expect(Array.from(layer.weights[0].read().dataSync())).toEqual(new Array(8).fill(1));
  expect(layer.getConfig()).toMatchObject({axis: -1, epsilon: 1e-6});
  expect(maxDiff(y, rmsNorm(x))).toBe(0);
  const two = layers.rmsNormalization({axis: [-2, -1], epsilon: 1e-3});
  const y2 = two.apply(x) as tf.Tensor;
  expect(two.weights[0].shape).toEqual([3, 8]);
  expect(maxDiff(y2, rmsNorm(x, {axes: [-2, -1], epsilon: 1e-3}))).toBe(0);
});

test('bad arguments are rejected with the layer name', () => {
  expect(() => layers.rmsNormalization({center: true} as never)).toThrow(/rmsNormalization: unknown argument 'center'/);
  expect(() => layers.rmsNormalization({axis: 1}).apply(tf.ones([2, 3, 4]))).toThrow(/rmsNormalization: 'axis' must be the trailing axes/);
});

test('save/load round trip with identical predictions and config', async () => {
  const model = tf.sequential({layers: [tf.layers.inputLayer({inputShape: [4, 6]}), layers.rmsNormalization({name: 'rms'})]});
  const x = tf.randomNormal([5, 4, 6], 0.5, 2, 'float32', 2);
  model.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
  await model.fit(x, tf.randomNormal([5, 4, 6], 0, 1, 'float32', 3), {epochs: 2, verbose: 0});
  const artifacts = await saveToMemory(tf, model);
  expect(JSON.stringify(artifacts.modelTopology)).toContain('"class_name":"RMSNormalization"');
  expect(artifacts.weightSpecs!.map((w) => w.name)).toEqual(['rms/scale']);
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  expect(maxDiff(loaded.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor)).toBe(0);
  expect(last(loaded).getConfig()).toEqual(last(model).getConfig());
});

test('a Keras 3 model.json with RMSNormalization (dtype policy, snake_case) loads and computes rmsNorm', async () => {
  const scale = tf.randomNormal([6], 1, 0.3, 'float32', 4);
  const model = await tf.loadLayersModel(kerasSequential(tf, [4, 6], {
    class_name: 'RMSNormalization', config: {name: 'rms_norm', trainable: true, dtype: DTYPE_POLICY, axis: -1, epsilon: 1e-6},
  }, {scale}));
  const x = tf.randomNormal([2, 4, 6], 0, 1, 'float32', 5);
  expect(maxDiff(model.predict(x) as tf.Tensor, rmsNorm(x, {gamma: scale}))).toBeLessThan(1e-6);
});
