/**
 * Save/load round trips of every layer (model.save -> tf.loadLayersModel) with identical
 * predictions, and models written by Keras / TF-Addons with their class names.
 */
import * as tf from '@tensorflow/tfjs';
import {groupNorm, instanceNorm, layers} from '../../src/index.js';
import {useTestBackend} from '../support/backend.js';

beforeAll(async () => {
  await useTestBackend(tf);
});

async function roundTrip(model: tf.LayersModel): Promise<{loaded: tf.LayersModel; topology: string}> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  return {loaded: await tf.loadLayersModel(tf.io.fromMemory(artifacts!)), topology: JSON.stringify(artifacts!.modelTopology)};
}

const cases: Array<[string, () => tf.layers.Layer, number[], string]> = [
  ['batchNormalization', () => layers.batchNormalization({activation: 'leakyRelu', alpha: 0.2, momentum: null,
    unbiasedMovingVariance: true, gammaRegularizer: 'l2', gammaConstraint: 'nonNeg'}), [5, 4], 'NormsBatchNormalization'],
  ['syncBatchNormalization', () => layers.syncBatchNormalization({axis: 1, epsilon: 1e-4}), [3, 4, 4], 'SyncBatchNormalization'],
  ['layerNormalization', () => layers.layerNormalization({axis: [-2, -1], center: false}), [3, 4], 'NormsLayerNormalization'],
  ['groupNormalization', () => layers.groupNormalization({groups: 2, gammaInitializer: tf.initializers.randomNormal({seed: 1})}), [4, 4, 6], 'GroupNormalization'],
  ['instanceNormalization', () => layers.instanceNormalization({scale: false}), [4, 4, 3], 'InstanceNormalization'],
  ['inPlaceABN', () => layers.inPlaceABN({activation: 'elu'}), [4, 4, 3], 'InPlaceABN'],
];

test.each(cases)('%s round-trips with identical predictions', async (_n, make, inputShape, className) => {
  const model = tf.sequential({layers: [tf.layers.inputLayer({inputShape}), make()]});
  const x = tf.randomNormal([6, ...inputShape], 1, 2, 'float32', 3);
  // Train once so the moving statistics and weights are not the initial ones.
  model.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
  await model.fit(x, tf.zeros([6, ...inputShape]), {epochs: 1, verbose: 0});
  const {loaded, topology} = await roundTrip(model);
  expect(topology).toContain(`"class_name":"${className}"`);
  const a = model.predict(x) as tf.Tensor;
  const b = loaded.predict(x) as tf.Tensor;
  expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
  const last = (m: tf.LayersModel) => m.layers[m.layers.length - 1];
  expect(last(loaded).getConfig()).toEqual(last(model).getConfig());
});

/** A model.json as Keras 2 + TF-Addons and Keras 3 write it (snake_case, dtype policy objects). */
function kerasModel() {
  const init = (name: string) => ({module: 'keras.initializers', class_name: name, config: {}, registered_name: null});
  const common = {trainable: true, epsilon: 0.001, center: true, scale: true, beta_regularizer: null,
    gamma_regularizer: null, beta_constraint: null, gamma_constraint: null};
  return {
    class_name: 'Sequential',
    config: {name: 'keras_model', layers: [
      {class_name: 'InputLayer', config: {batch_input_shape: [null, 4, 4, 6], dtype: 'float32', sparse: false, name: 'input_1'}},
      {class_name: 'Addons>GroupNormalization', config: {...common, name: 'addons_gn', dtype: 'float32', groups: 3, axis: -1,
        beta_initializer: {class_name: 'Zeros', config: {}}, gamma_initializer: {class_name: 'Ones', config: {}}}},
      {class_name: 'Addons>InstanceNormalization', config: {...common, name: 'addons_in', dtype: 'float32', groups: -1, axis: -1,
        beta_initializer: {class_name: 'Zeros', config: {}}, gamma_initializer: {class_name: 'Ones', config: {}}}},
      {class_name: 'GroupNormalization', config: {...common, name: 'keras3_gn', groups: 2, axis: -1,
        dtype: {module: 'keras', class_name: 'DTypePolicy', config: {name: 'float32'}, registered_name: null},
        beta_initializer: init('Zeros'), gamma_initializer: init('Ones')}},
    ]},
    keras_version: '2.15.0', backend: 'tensorflow',
  };
}

test('Keras and TF-Addons class names load (tensorflow/tfjs#626, #4823) and compute the right thing', async () => {
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const values: number[] = [];
  const params: Record<string, tf.Tensor> = {};
  for (const [layer, seed] of [['addons_gn', 1], ['addons_in', 2], ['keras3_gn', 3]] as const) {
    for (const w of ['gamma', 'beta']) {
      const t = tf.randomNormal([6], 0, 1, 'float32', seed * 10 + w.length);
      params[`${layer}/${w}`] = t;
      weightSpecs.push({name: `${layer}/${w}`, shape: [6], dtype: 'float32'});
      values.push(...t.dataSync());
    }
  }
  const model = await tf.loadLayersModel(tf.io.fromMemory({
    modelTopology: kerasModel(), weightSpecs, weightData: new Float32Array(values).buffer,
  }));
  expect(model.layers.map((l) => l.getClassName()).filter((n) => n !== 'InputLayer')).toEqual(
      ['Addons>GroupNormalization', 'Addons>InstanceNormalization', 'GroupNormalization']);
  const x = tf.randomNormal([2, 4, 4, 6], 0, 1, 'float32', 9);
  const p = (name: string) => ({gamma: params[`${name}/gamma`], beta: params[`${name}/beta`], epsilon: 1e-3});
  let ref = groupNorm(x, {groups: 3, ...p('addons_gn')});
  ref = instanceNorm(ref, p('addons_in'));
  ref = groupNorm(ref, {groups: 2, ...p('keras3_gn')});
  const y = model.predict(x) as tf.Tensor;
  expect(tf.max(tf.abs(tf.sub(y, ref))).dataSync()[0]).toBeLessThan(1e-5);
});
