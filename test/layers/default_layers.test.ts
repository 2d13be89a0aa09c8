/**
 * layers.useAsDefaultLayers(): models saved with tfjs-layers' BatchNormalization (axis -1 and 1)
 * and LayerNormalization load as our classes with the same weights, compute the formula, train
 * in model.fit, and the returned function restores tfjs-layers' classes. Keras config fields:
 * harmless ones ignored, math-changing ones refused by name.
 */
import * as tf from '@tensorflow/tfjs';
import {layers} from '../../src/index.js';
import {useTestBackend} from '../support/backend.js';

beforeAll(async () => {
  await useTestBackend(tf);
});

async function saved(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  return artifacts!;
}

/** A tfjs-layers model: conv (NHWC) → BN(-1) → permute to NCHW → BN(axis 1) → LN → dense, with non-trivial weights. */
async function tfjsLayersModel(): Promise<tf.LayersModel> {
  const model = tf.sequential({layers: [
    tf.layers.conv2d({inputShape: [4, 4, 3], filters: 6, kernelSize: 3, padding: 'same', name: 'conv'}),
    tf.layers.batchNormalization({axis: -1, name: 'bn_last'}),
    tf.layers.permute({dims: [3, 1, 2], name: 'to_nchw'}),
    tf.layers.batchNormalization({axis: 1, epsilon: 1e-2, name: 'bn_first'}),
    tf.layers.layerNormalization({axis: -1, name: 'ln'}),
    tf.layers.flatten({name: 'flatten'}),
    tf.layers.dense({units: 2, name: 'dense'}),
  ]});
  // Random gamma, beta and moving statistics (tfjs-layers' inference with axis 1 is wrong on cpu,
  // so the reference is the formula, not tfjs-layers' output).
  let seed = 10;
  for (const layer of model.layers) {
    if (!/bn_|ln/.test(layer.name)) continue;
    layer.setWeights(layer.getWeights().map((w, i) => tf.tidy(() => {
      const r = tf.randomUniform(w.shape, 0, 1, 'float32', seed++);
      // gamma and variance in [0.5, 1.5), beta and mean in [-0.5, 0.5).
      return i === 1 || i === 2 ? tf.sub(r, 0.5) : tf.add(r, 0.5);
    })));
  }
  return model;
}

/** y = (x − mean) / sqrt(var + eps) · gamma + beta along `axis`, from the layer's own weights. */
function bnFormula(x: tf.Tensor, layer: tf.layers.Layer, axis: number, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const [gamma, beta, mean, variance] = layer.getWeights();
    const shape = x.shape.map((d, i) => (i === axis ? d : 1));
    const r = (t: tf.Tensor) => tf.reshape(t, shape);
    return tf.add(tf.mul(tf.div(tf.sub(x, r(mean)), tf.sqrt(tf.add(r(variance), eps))), r(gamma)), r(beta));
  });
}

function lnFormula(x: tf.Tensor, layer: tf.layers.Layer, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const [gamma, beta] = layer.getWeights();
    const {mean, variance} = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), gamma), beta);
  });
}

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

test('a tfjs-layers model loads as our classes with its weights, computes the formula, trains, and restore works', async () => {
  const original = await tfjsLayersModel();
  const artifacts = await saved(original);
  const x = tf.randomNormal([3, 4, 4, 3], 0, 1, 'float32', 1);

  const restore = layers.useAsDefaultLayers();
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    // modelFromJSON goes through the same registry.
    const fromJson = await tf.models.modelFromJSON({modelTopology: artifacts.modelTopology as never});
    expect(fromJson.getLayer('bn_first')).toBeInstanceOf(layers.BatchNormalization);
  } finally {
    restore();
  }
  const [bnLast, bnFirst, ln] = ['bn_last', 'bn_first', 'ln'].map((n) => model.getLayer(n));
  expect(bnLast).toBeInstanceOf(layers.BatchNormalization);
  expect(bnFirst).toBeInstanceOf(layers.BatchNormalization);
  expect(ln).toBeInstanceOf(layers.LayerNormalization);
  expect((bnFirst as layers.BatchNormalization).axis).toBe(1);
  // Same weights, by name.
  for (const name of ['bn_last', 'bn_first', 'ln']) {
    const a = model.getLayer(name).getWeights();
    const b = original.getLayer(name).getWeights();
    expect(a.map((w) => Array.from(w.dataSync()))).toEqual(b.map((w) => Array.from(w.dataSync())));
  }

  // Inference: the formula, layer by layer (tfjs-layers' own bn_first is wrong here on cpu).
  const expected = tf.tidy(() => {
    let h = original.getLayer('conv').apply(x) as tf.Tensor;
    h = bnFormula(h, bnLast, 3, 1e-3);
    h = tf.transpose(h, [0, 3, 1, 2]);
    h = bnFormula(h, bnFirst, 1, 1e-2);
    h = lnFormula(h, ln, 1e-3);
    return original.getLayer('dense').apply(tf.reshape(h, [3, -1])) as tf.Tensor;
  });
  const y = model.predict(x) as tf.Tensor;
  expect(maxDiff(y, expected)).toBeLessThan(1e-4);

  // model.fit trains the loaded model and moves the moving statistics.
  const target = tf.randomNormal([3, 2], 0, 1, 'float32', 2);
  model.compile({optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError'});
  const movingBefore = Array.from(bnFirst.getWeights()[2].dataSync());
  const h = await model.fit(x, target, {epochs: 8, batchSize: 3, verbose: 0, shuffle: false});
  const losses = h.history.loss as number[];
  expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
  expect(Array.from(bnFirst.getWeights()[2].dataSync())).not.toEqual(movingBefore);

  // Restored: the same file builds tfjs-layers' classes again.
  const builtIn = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  expect(builtIn.getLayer('bn_first')).not.toBeInstanceOf(layers.BatchNormalization);
  expect(builtIn.getLayer('bn_first').getClassName()).toBe('BatchNormalization');
  expect(builtIn.getLayer('ln')).not.toBeInstanceOf(layers.LayerNormalization);
  tf.dispose([x, y, expected, target]);
});

test('restore puts back whatever was registered, once; nested calls unwind in order', async () => {
  const map = tf.serialization.SerializationMap.getMap().classNameMap;
  const builtIn = map.BatchNormalization;
  const outer = layers.useAsDefaultLayers();
  const inner = layers.useAsDefaultLayers();
  expect(map.BatchNormalization[0]).toBe(layers.BatchNormalization);
  expect(map.LayerNormalization[0]).toBe(layers.LayerNormalization);
  expect(map.GroupNormalization[0]).toBe(layers.GroupNormalization);
  inner();
  expect(map.BatchNormalization[0]).toBe(layers.BatchNormalization);
  outer();
  outer();
  expect(map.BatchNormalization).toBe(builtIn);
});

describe('Keras config fields', () => {
  /** A one-layer functional model.json as Keras writes it (snake_case), with `extra` config fields. */
  function kerasBN(extra: object, className = 'BatchNormalization') {
    const init = (name: string) => ({module: 'keras.initializers', class_name: name, config: {}, registered_name: null});
    return {
      class_name: 'Functional',
      config: {name: 'm', layers: [
        {class_name: 'InputLayer', config: {batch_input_shape: [null, 4], dtype: 'float32', name: 'in'}, name: 'in', inbound_nodes: []},
        {class_name: className, name: 'bn', inbound_nodes: [[['in', 0, 0, {}]]], config: {
          name: 'bn', trainable: true, dtype: 'float32', axis: [1], epsilon: 0.001, center: true, scale: true,
          beta_initializer: init('Zeros'), gamma_initializer: init('Ones'), beta_regularizer: null, gamma_regularizer: null,
          beta_constraint: null, gamma_constraint: null,
          ...(className === 'BatchNormalization' ? {momentum: 0.99, moving_mean_initializer: init('Zeros'),
            moving_variance_initializer: init('Ones')} : {}),
          ...extra,
        }},
      ], input_layers: [['in', 0, 0]], output_layers: [['bn', 0, 0]]},
      keras_version: '2.16.0', backend: 'tensorflow',
    };
  }
  const build = async (extra: object, className?: string) => {
    const restore = layers.useAsDefaultLayers();
    try {
      return await tf.models.modelFromJSON({modelTopology: kerasBN(extra, className)} as never);
    } finally {
      restore();
    }
  };

  test.each([
    ['Keras 2 (tf_keras)', {fused: true}],
    ['Keras 3 (renorm off, synchronized false, dtype policy)', {renorm: false, renorm_clipping: null, renorm_momentum: 0.99,
      synchronized: false, dtype: {module: 'keras', class_name: 'DTypePolicy', config: {name: 'float32'}, registered_name: null}}],
    ['virtual_batch_size null, adjustment null', {virtual_batch_size: null, adjustment: null}],
  ])('%s: accepted, our BatchNormalization', async (_n, extra) => {
    const m = await build(extra);
    expect(m.getLayer('bn')).toBeInstanceOf(layers.BatchNormalization);
    expect(m.getLayer('bn')).not.toBeInstanceOf(layers.SyncBatchNormalization);
  });

  test('synchronized: true gives a SyncBatchNormalization', async () => {
    expect((await build({synchronized: true})).getLayer('bn')).toBeInstanceOf(layers.SyncBatchNormalization);
  });

  test.each([
    ['virtual_batch_size', {virtual_batch_size: 2}, /batchNormalization 'bn': Keras option 'virtual_batch_size' = 2 changes the computation/],
    ['adjustment', {adjustment: 'f'}, /Keras option 'adjustment' = "f" changes the computation/],
  ])('%s: refused, naming the field', async (_n, extra, message) => {
    await expect(build(extra)).rejects.toThrow(message);
  });

  test('LayerNormalization: Keras 3 rms_scaling false accepted, true refused', async () => {
    expect((await build({rms_scaling: false}, 'LayerNormalization')).getLayer('bn')).toBeInstanceOf(layers.LayerNormalization);
    await expect(build({rms_scaling: true}, 'LayerNormalization'))
        .rejects.toThrow(/layerNormalization 'bn': Keras option 'rms_scaling' = true changes the computation/);
  });
});
