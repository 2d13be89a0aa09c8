/**
 * Conversion to and from SyncBatchNormalization on Sequential, functional and nested models,
 * and on model.json: same config and weights, identical inference predictions.
 */
import * as tf from '@tensorflow/tfjs';
import {convert, layers} from '../../src/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const classNames = (m: tf.LayersModel): string[] => m.layers.flatMap((l) =>
  'layers' in l ? [`${l.getClassName()}[`, ...classNames(l as tf.LayersModel), ']'] : [l.getClassName()]);

function sequential(): tf.LayersModel {
  return tf.sequential({layers: [
    tf.layers.conv2d({inputShape: [6, 6, 2], filters: 4, kernelSize: 3, padding: 'same'}),
    tf.layers.batchNormalization({momentum: 0.9}),
    tf.layers.activation({activation: 'relu'}),
    layers.batchNormalization({activation: 'leakyRelu', alpha: 0.2}),
    tf.layers.flatten(),
    tf.layers.dense({units: 3}),
  ]});
}

function functional(): tf.LayersModel {
  const input = tf.input({shape: [5, 5, 3]});
  const a = tf.layers.batchNormalization({name: 'bn_a'}).apply(input) as tf.SymbolicTensor;
  const b = layers.batchNormalization({name: 'bn_b', activation: 'relu'}).apply(a) as tf.SymbolicTensor;
  const c = tf.layers.add().apply([a, b]) as tf.SymbolicTensor;
  const d = tf.layers.globalAveragePooling2d({}).apply(b) as tf.SymbolicTensor;
  return tf.model({inputs: input, outputs: [c, d]});
}

function nested(): tf.LayersModel {
  const inner = tf.sequential({name: 'inner', layers: [
    tf.layers.dense({inputShape: [4], units: 6}),
    tf.layers.batchNormalization({}),
  ]});
  const input = tf.input({shape: [4]});
  const h = inner.apply(input) as tf.SymbolicTensor;
  const out = tf.layers.batchNormalization({name: 'outer_bn'}).apply(h) as tf.SymbolicTensor;
  return tf.model({inputs: input, outputs: out});
}

async function trained(m: tf.LayersModel, x: tf.Tensor): Promise<tf.LayersModel> {
  // Moving statistics away from their initial values.
  for (let i = 0; i < 3; i++) tf.tidy(() => { m.apply(tf.add(tf.mul(x, i + 1), i), {training: true}); });
  return m;
}

const predict = (m: tf.LayersModel, x: tf.Tensor) => {
  const p = m.predict(x);
  return (Array.isArray(p) ? p : [p]).map((t) => Array.from(t.dataSync()));
};

function expectClose(a: number[][], b: number[][]) {
  expect(a.length).toBe(b.length);
  a.forEach((arr, i) => arr.forEach((v, j) => expect(Math.abs(v - b[i][j])).toBeLessThan(1e-5)));
}

describe.each([
  ['Sequential', sequential, [2, 6, 6, 2]],
  ['functional', functional, [2, 5, 5, 3]],
  ['nested', nested, [3, 4]],
] as const)('%s model', (_name, make, shape) => {
  test('toSyncBatchNorm keeps config, weights and inference predictions; fromSyncBatchNorm goes back', async () => {
    const x = tf.randomNormal([...shape], 1, 2, 'float32', 1);
    const model = await trained(make(), x);
    const sync = await convert.toSyncBatchNorm(model);
    const names = classNames(sync);
    expect(names).not.toContain('BatchNormalization');
    expect(names).not.toContain('NormsBatchNormalization');
    expect(names.filter((n) => n === 'SyncBatchNormalization').length).toBe(
        classNames(model).filter((n) => n.endsWith('BatchNormalization')).length);
    expectClose(predict(sync, x), predict(model, x));
    expect(sync.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(model.getWeights().map((w) => Array.from(w.dataSync())));

    const plain = await convert.fromSyncBatchNorm(sync);
    const plainNames = classNames(plain);
    expect(plainNames).not.toContain('SyncBatchNormalization');
    expectClose(predict(plain, x), predict(model, x));
    // The plain model needs nothing of this package: it round-trips through tfjs-layers' JSON alone.
    expect(JSON.stringify(plain.toJSON(null, false))).not.toMatch(/"class_name":"(SyncBatch|NormsBatch)|unbiased|use_global_stats/);
  });
});

test('a fused activation becomes its own layer in the plain model (functional consumers rewired)', async () => {
  const x = tf.randomNormal([2, 5, 5, 3], 0, 1, 'float32', 2);
  const model = functional();
  const plain = await convert.fromSyncBatchNorm(await convert.toSyncBatchNorm(model));
  expect(plain.layers.map((l) => l.name)).toContain('bn_b_activation');
  expectClose(predict(plain, x), predict(model, x));
});

test('model.json forms leave the weights manifest untouched', () => {
  const modelJson = {
    format: 'layers-model',
    modelTopology: sequential().toJSON(null, false),
    weightsManifest: [{paths: ['weights.bin'], weights: [{name: 'w', shape: [1], dtype: 'float32'}]}],
  };
  const sync = convert.toSyncBatchNormJSON(modelJson as never);
  expect(sync.weightsManifest).toEqual(modelJson.weightsManifest);
  expect(JSON.stringify(sync.modelTopology)).toContain('"class_name":"SyncBatchNormalization"');
  expect(JSON.stringify(sync.modelTopology)).not.toContain('"class_name":"BatchNormalization"');
  const back = convert.fromSyncBatchNormJSON(sync);
  expect(JSON.stringify(back.modelTopology)).not.toContain('SyncBatchNormalization');
  expect(JSON.stringify(back.modelTopology)).toContain('"class_name":"LeakyReLU"');
  expect(() => convert.toSyncBatchNormJSON({} as never)).toThrow(/expected a parsed model.json/);
});

test('toSyncBatchNorm sets the group on every converted layer', async () => {
  const {CollectiveGroup, SingleProcessTransport} = (await import('../../src/index.js')).collective;
  const group = new CollectiveGroup(new SingleProcessTransport());
  const sync = await convert.toSyncBatchNorm(nested(), {group});
  const all = (m: tf.LayersModel): tf.layers.Layer[] => m.layers.flatMap((l) => ('layers' in l ? all(l as tf.LayersModel) : [l]));
  const syncLayers = all(sync).filter((l) => l instanceof layers.SyncBatchNormalization) as layers.SyncBatchNormalization[];
  expect(syncLayers.length).toBe(2);
  for (const l of syncLayers) expect(l.group).toBe(group);
});

test('a model loaded after useAsDefaultLayers goes back to tfjs-layers classes with fromSyncBatchNorm', async () => {
  const original = tf.sequential({layers: [
    tf.layers.dense({inputShape: [4], units: 6}),
    tf.layers.batchNormalization({}),
    tf.layers.layerNormalization({}),
  ]});
  const x = tf.randomNormal([5, 4], 0, 1, 'float32', 3);
  await trained(original, x);
  const restore = layers.useAsDefaultLayers();
  const ours = await tf.models.modelFromJSON({modelTopology: original.toJSON(null, false) as never});
  restore();
  ours.setWeights(original.getWeights());
  expect(classNames(ours)).toEqual(['Dense', 'NormsBatchNormalization', 'NormsLayerNormalization']);
  const plain = await convert.fromSyncBatchNorm(ours);
  expect(classNames(plain)).toEqual(['Dense', 'BatchNormalization', 'LayerNormalization']);
  expectClose(predict(plain, x), predict(original, x));
  expectClose(predict(ours, x), predict(original, x));
});
