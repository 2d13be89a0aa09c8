/** InstanceNormalization with tracked running statistics (PyTorch's track_running_stats=True). */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import {compare} from '../support/fixtures.js';
import {movingStatsInFit, type MovingStatsCase} from '../support/layer_checks.js';
import {loadFixtures} from '../support/load.js';
import {saveToMemory} from '../support/model_io.js';
import {useTestBackend} from '../support/backend.js';

const last = (m: tf.LayersModel) => m.layers[m.layers.length - 1];

beforeAll(async () => {
  await useTestBackend(tf);
});

interface RunningCase extends MovingStatsCase {
  weights: {gamma: {shape: number[]; data: number[]}; beta: {shape: number[]; data: number[]}} | null;
  eval: {x: {shape: number[]; data: number[]}; y: {shape: number[]; data: number[]}};
}
const cases = (loadFixtures('instance_running_stats') as unknown as {cases: RunningCase[]}).cases;

describe('running statistics in model.fit, and inference with them, against torch.nn.InstanceNorm2d', () => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const before = tf.memory().numTensors;
    // model.fit needs a trainable weight: the statistics do not depend on gamma and beta.
    const layer = norms.layers.instanceNormalization({...c.layer, center: true, scale: true} as never);
    expect(await movingStatsInFit(tf, layer, c)).toEqual([]);
    // Inference with the final running statistics (and the case's gamma/beta, if any).
    const fresh = norms.layers.instanceNormalization(c.layer as never);
    const model = tf.sequential({layers: [tf.layers.inputLayer({inputShape: c.eval.x.shape.slice(1)}), fresh]});
    const final = c.after[c.after.length - 1];
    const set = (suffix: string, data: number[]) => tf.tidy(() => { fresh.weights.find((w) => w.name.endsWith(`/${suffix}`))!.write(tf.tensor(data)); });
    set('moving_mean', final.mean);
    set('moving_variance', final.variance);
    if (c.weights) {
      set('gamma', c.weights.gamma.data);
      set('beta', c.weights.beta.data);
    }
    const y = tf.tidy(() => (model.predict(tf.tensor(c.eval.x.data, c.eval.x.shape)) as tf.Tensor).dataSync());
    expect(compare('eval y', y, c.eval.y, 1e-4, 1e-5)).toEqual([]);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

test('weights, config, save/load; off by default with the config unchanged', async () => {
  const layer = norms.layers.instanceNormalization({trackRunningStats: true, momentum: 0.9, unbiasedMovingVariance: true});
  const model = tf.sequential({layers: [tf.layers.inputLayer({inputShape: [4, 4, 3]}), layer]});
  expect(layer.weights.map((w) => [w.name.split('/').pop(), w.trainable])).toEqual([
    ['gamma', true], ['beta', true], ['moving_mean', false], ['moving_variance', false]]);
  expect(layer.getConfig()).toMatchObject({trackRunningStats: true, momentum: 0.9, unbiasedMovingVariance: true});
  expect(norms.layers.instanceNormalization().getConfig()).not.toHaveProperty('trackRunningStats');
  const x = tf.randomNormal([4, 4, 4, 3], 1, 2, 'float32', 1);
  model.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
  await model.fit(x, tf.zeros([4, 4, 4, 3]), {epochs: 2, verbose: 0});
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(await saveToMemory(tf, model)));
  expect(last(loaded).getConfig()).toEqual(layer.getConfig());
  expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
  // Without trackRunningStats inference uses the instance statistics, as before.
  const plain = norms.layers.instanceNormalization({});
  const yp = plain.apply(x) as tf.Tensor;
  expect(tf.max(tf.abs(tf.sub(yp, norms.instanceNorm(x, {epsilon: 1e-3})))).dataSync()[0]).toBeLessThan(1e-6);
});

test('the converters keep an InstanceNormalization with running statistics (weights and predictions)', async () => {
  const model = tf.sequential({layers: [
    tf.layers.inputLayer({inputShape: [4, 4, 3]}),
    norms.layers.batchNormalization({}),
    norms.layers.instanceNormalization({trackRunningStats: true, name: 'inr'}),
  ]});
  model.compile({optimizer: 'sgd', loss: 'meanSquaredError'});
  const x = tf.randomNormal([4, 4, 4, 3], 1, 2, 'float32', 2);
  await model.fit(x, tf.zeros([4, 4, 4, 3]), {epochs: 1, verbose: 0});
  const sync = await norms.convert.toSyncBatchNorm(model);
  const back = await norms.convert.fromSyncBatchNorm(sync);
  for (const m of [sync, back]) {
    const inr = m.layers.find((l) => l.name === 'inr')!;
    expect(inr.getConfig()).toMatchObject({trackRunningStats: true});
    // Equal up to float32 rounding: on the composite path SyncBatchNorm's inference and
    // BatchNorm's reach the same formula through different kernel sequences.
    const want = model.predict(x) as tf.Tensor;
    expect(compare('y', (m.predict(x) as tf.Tensor).dataSync(), {shape: want.shape, data: Array.from(want.dataSync())},
      1e-6, 1e-6)).toEqual([]);
  }
});

test('errors', () => {
  expect(() => norms.layers.instanceNormalization({momentum: 0.9})).toThrow(/'momentum' and 'unbiasedMovingVariance' need 'trackRunningStats: true'/);
  expect(() => norms.layers.instanceNormalization({trackRunningStats: true, momentum: 2})).toThrow(/instanceNormalization: 'momentum' must be in \[0, 1\]/);
});
