/**
 * The layers on the tensorflow backend: model.fit end to end with each layer (loss goes down,
 * nothing leaks), moving statistics inside model.fit against PyTorch and the Keras formula for
 * each momentum convention, save/load round trips (in memory, through tfjs-node's file://
 * handler and through tfjs-norms/node's folder handler, in a plain Node process) with identical
 * predictions, and conversion to and from SyncBatchNormalization of a
 * model trained on tensorflow, keeping its predictions.
 */
import {tf, tfHandles, useTensorflow} from './support/tfnode.js';
import * as norms from '../../src/index.js';
import {fitEachLayer, layerFactories, movingStatsInFit, movingStatsLayers, type FitResult, type MovingStatsCase}
  from '../support/layer_checks.js';
import {loadFixtures} from '../support/load.js';
import {execFile} from 'node:child_process';
import {join} from 'node:path';
import {promisify} from 'node:util';
import type {LayersModel, SymbolicTensor, Tensor} from '@tensorflow/tfjs';

type TF = typeof import('@tensorflow/tfjs');
const tfjs = tf as unknown as TF;

beforeAll(async () => {
  await useTensorflow();
  // tfjs' test mode checks every kernel for leaked data ids, and tfjs-node's own _FusedMatMul
  // (Dense layers), built from ops inside the kernel, trips that check under model.fit's gradient
  // tape although nothing leaks (tf.memory() and TensorFlow's handle count stay flat over fits).
  // Leaks are checked here with those two counts instead.
  tf.env().set('IS_TEST', false);
});

describe('model.fit with each layer', () => {
  let results: FitResult[];
  let handlesLeaked: number;
  beforeAll(async () => {
    const handles = tfHandles();
    results = await fitEachLayer(tfjs, norms);
    handlesLeaked = tfHandles() - handles;
  }, 120000);

  test('no TensorFlow handle outlives the models', () => {
    expect(handlesLeaked).toBe(0);
  });

  test.each(layerFactories(norms).map(([name]) => name))('%s', (name) => {
    expect(tf.getBackend()).toBe('tensorflow');
    const r = results.find((x) => x.name === name)!;
    expect(r.losses.every(Number.isFinite)).toBe(true);
    expect(r.losses[r.losses.length - 1]).toBeLessThan(r.losses[0] * 0.8);
    expect(r.leaked).toBe(0);
  });
});

describe('moving statistics inside model.fit', () => {
  const cases = (loadFixtures('moving_stats') as unknown as {cases: MovingStatsCase[]}).cases;
  const grid = movingStatsLayers(norms).flatMap(([layer, make]) =>
    cases.map((c) => [`${layer}: ${c.name} (${c.oracle})`, make, c] as const));
  test.each(grid)('%s', async (_n, make, c) => {
    expect(tf.getBackend()).toBe('tensorflow');
    const before = tf.memory().numTensors;
    expect(await movingStatsInFit(tfjs, make(c.layer), c)).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('batch-norm layer options on tensorflow', () => {
  const l = norms.layers;
  const maxDiff = (a: Tensor, b: Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

  test('inference uses the moving statistics and leaves them unchanged', () => {
    const layer = l.batchNormalization({momentum: 0.5});
    const x = tf.randomNormal([16, 3], 2, 3, 'float32', 1);
    tf.tidy(() => { layer.apply(x, {training: true}); });
    const before = values(layer.getWeights());
    const y = layer.apply(x, {training: false}) as Tensor;
    const [gamma, beta, mean, variance] = layer.getWeights();
    const ref = norms.batchNorm(x, {training: false, gamma, beta, mean: mean as never, variance: variance as never, epsilon: 1e-3});
    expect(maxDiff(y, ref.y)).toBeLessThan(1e-6);
    expect(values(layer.getWeights())).toEqual(before);
    // ref.mean / ref.variance are the layer's own weights (inference returns the given statistics).
    tf.dispose([x, y, ref.y]);
    layer.dispose();
  });

  test('useGlobalStats: moving statistics in training, no update', () => {
    const layer = l.syncBatchNormalization({useGlobalStats: true});
    const x = tf.randomNormal([16, 3], 5, 2, 'float32', 2);
    const y = layer.apply(x, {training: true}) as Tensor;
    expect(tf.tidy(() => maxDiff(y, tf.div(x, Math.sqrt(1 + 1e-3))))).toBeLessThan(1e-5);
    expect(Array.from(layer.getWeights()[2].dataSync())).toEqual([0, 0, 0]);
    tf.dispose([x, y]);
    layer.dispose();
  });

  test('trainableStatistics: batch statistics in inference too', () => {
    const layer = l.inPlaceABN({trainableStatistics: true, activation: 'linear'});
    const x = tf.randomNormal([16, 3], 5, 2, 'float32', 3);
    const y = layer.apply(x, {training: false}) as Tensor;
    const ref = norms.batchNorm(x, {training: true, epsilon: 1e-3});
    expect(maxDiff(y, ref.y)).toBeLessThan(1e-5);
    expect(Array.from(layer.getWeights()[2].dataSync())).toEqual([0, 0, 0]);
    tf.dispose([x, y, ref.y, ref.mean, ref.variance]);
    layer.dispose();
  });

  test.each(layerFactories(norms).filter(([, , f]) => f === 'NHWC'))(
    '%s: apply(x, {training: true}) leaks no tensor or TensorFlow handle (tensorflow/tfjs#7983)', (_n, make) => {
      const layer = make();
      const x = tf.randomNormal([4, 6, 6, 4], 0, 1, 'float32', 4);
      tf.dispose(layer.apply(x, {training: true}) as Tensor);
      const before = tf.memory().numTensors;
      const handles = tfHandles();
      for (let i = 0; i < 3; i++) tf.dispose(layer.apply(x, {training: true}) as Tensor);
      expect(tf.memory().numTensors).toBe(before);
      expect(tfHandles()).toBe(handles);
      x.dispose();
      layer.dispose();
    });
});

async function trained(model: LayersModel, x: Tensor): Promise<LayersModel> {
  // Weights and moving statistics away from their initial values.
  const optimizer = tfjs.train.sgd(0.05);
  model.compile({optimizer, loss: 'meanSquaredError'});
  const y = tfjs.ones([x.shape[0], ...(model.outputs[0] as SymbolicTensor).shape.slice(1)] as number[]);
  await model.fit(x, y, {epochs: 2, batchSize: 4, verbose: 0, shuffle: false});
  tf.dispose(y);
  return model;
}

const values = (t: Tensor | Tensor[]) => (Array.isArray(t) ? t : [t]).map((v) => Array.from(v.dataSync()));
const predict = (m: LayersModel, x: Tensor) => tf.tidy(() => values(m.predict(x) as Tensor));

describe('save and load (a plain Node process: test/tensorflow/scripts/save_load.cjs)', () => {
  interface Loaded {predictions: number[][]; configs: unknown[]; weights: number[][]; lossesAfter: number[]}
  let run: {backend: string; topology: string; predictions: number[][]; configs: unknown[]; weights: number[][];
    files: Record<string, string[]>; loaded: Record<string, Loaded>; tensors: number};
  beforeAll(async () => {
    const {stdout} = await promisify(execFile)(process.execPath, [join(__dirname, 'scripts', 'save_load.cjs')],
                                               {timeout: 60000, maxBuffer: 16 << 20});
    run = JSON.parse(stdout);
  }, 70000);

  test('the model holds every layer and ran on tensorflow', () => {
    expect(run.backend).toBe('tensorflow');
    for (const name of ['NormsBatchNormalization', 'SyncBatchNormalization', 'NormsLayerNormalization',
      'GroupNormalization', 'InstanceNormalization', 'InPlaceABN']) expect(run.topology).toContain(`"class_name":"${name}"`);
    expect(run.files).toEqual({node: ['model.json', 'weights.bin'], norms: ['model.json', 'weights.bin']});
    expect(run.tensors).toBe(0);
  });

  test.each(['memory', 'file', 'folderSaveHandler'])('%s: identical predictions, configs and weights; trains on', (how) => {
    const loaded = run.loaded[how];
    expect(loaded.predictions).toEqual(run.predictions);
    expect(loaded.configs).toEqual(run.configs);
    expect(loaded.weights).toEqual(run.weights);
    expect(loaded.lossesAfter.length).toBe(2);
    expect(loaded.lossesAfter.every(Number.isFinite)).toBe(true);
  });
});

describe('conversion of a model trained on tensorflow', () => {
  /** A functional net with tfjs-layers' and our batch norms, one of them in a nested model. */
  function convNet(): LayersModel {
    const inner = tfjs.sequential({name: 'inner', layers: [
      tfjs.layers.conv2d({inputShape: [6, 6, 4], filters: 4, kernelSize: 3, padding: 'same',
        kernelInitializer: tfjs.initializers.glorotNormal({seed: 7})}),
      tfjs.layers.batchNormalization({momentum: 0.9}),
    ]});
    const input = tfjs.input({shape: [6, 6, 2]});
    const a = tfjs.layers.conv2d({filters: 4, kernelSize: 3, padding: 'same',
      kernelInitializer: tfjs.initializers.glorotNormal({seed: 8})}).apply(input) as SymbolicTensor;
    const b = norms.layers.batchNormalization({momentum: 0.8, activation: 'leakyRelu', alpha: 0.2}).apply(a) as SymbolicTensor;
    const c = inner.apply(b) as SymbolicTensor;
    const d = tfjs.layers.add().apply([b, c]) as SymbolicTensor;
    const e = tfjs.layers.globalAveragePooling2d({}).apply(d) as SymbolicTensor;
    return tfjs.model({inputs: input, outputs: tfjs.layers.dense({units: 3}).apply(e) as SymbolicTensor});
  }
  const classNames = (m: LayersModel): string[] => m.layers.flatMap((l) =>
    ('layers' in l ? classNames(l as LayersModel) : [l.getClassName()]));
  const close = (a: number[][], b: number[][]) => {
    expect(a.length).toBe(b.length);
    a.forEach((arr, i) => arr.forEach((v, j) => expect(Math.abs(v - b[i][j])).toBeLessThan(1e-5)));
  };

  test('toSyncBatchNorm and fromSyncBatchNorm keep weights and predictions; the sync model trains', async () => {
    expect(tf.getBackend()).toBe('tensorflow');
    const x = tf.randomNormal([8, 6, 6, 2], 0.5, 2, 'float32', 9);
    const model = await trained(convNet(), x);
    const sync = await norms.convert.toSyncBatchNorm(model);
    expect(classNames(sync).filter((n) => n === 'SyncBatchNormalization').length).toBe(2);
    expect(classNames(sync)).not.toContain('BatchNormalization');
    expect(values(sync.getWeights())).toEqual(values(model.getWeights()));
    close(predict(sync, x), predict(model, x));

    const plain = await norms.convert.fromSyncBatchNorm(sync);
    expect(classNames(plain)).not.toContain('SyncBatchNormalization');
    expect(classNames(plain).filter((n) => n === 'BatchNormalization').length).toBe(2);
    close(predict(plain, x), predict(model, x));

    // A world of one: the converted model trains like the original.
    const y = tfjs.ones([8, 3]);
    const losses = async (m: LayersModel) => {
      const optimizer = tfjs.train.sgd(0.05);
      m.compile({optimizer, loss: 'meanSquaredError'});
      const h = await m.fit(x, y, {epochs: 3, batchSize: 8, verbose: 0, shuffle: false});
      optimizer.dispose();
      return h.history.loss as number[];
    };
    const a = await losses(model);
    const b = await losses(sync);
    a.forEach((v, i) => expect(Math.abs(v - b[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(v))));
    [model, sync, plain].forEach((m) => m.dispose());
    tf.dispose([x, y]);
  });
});
