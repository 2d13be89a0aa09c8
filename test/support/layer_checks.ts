/**
 * model.fit with each of our layers, free of jest so that every backend's suite (cpu, webgl in
 * Chromium, tensorflow) can run it.
 */
import type * as tfType from '@tensorflow/tfjs';
import type * as normsType from '../../src/index.js';
import {compare} from './fixtures.js';

type TF = typeof tfType;
type Norms = typeof normsType;

export interface FitResult {name: string; losses: number[]; leaked: number}

/** Layers under test, each in a small conv net over channels-last or channels-first images. */
export function layerFactories(norms: Norms): Array<[string, () => tfType.layers.Layer, 'NHWC' | 'NCHW']> {
  const l = norms.layers;
  return [
    ['batchNormalization', () => l.batchNormalization({activation: 'relu'}), 'NHWC'],
    ['batchNormalization NCHW (axis 1)', () => l.batchNormalization({axis: 1}), 'NCHW'],
    ['batchNormalization center/scale false', () => l.batchNormalization({center: false, scale: false}), 'NHWC'],
    ['batchNormalization momentum null, unbiased', () => l.batchNormalization({momentum: null, unbiasedMovingVariance: true}), 'NHWC'],
    ['syncBatchNormalization (world of one)', () => l.syncBatchNormalization({}), 'NHWC'],
    ['layerNormalization', () => l.layerNormalization({axis: -1}), 'NHWC'],
    ['groupNormalization', () => l.groupNormalization({groups: 2}), 'NHWC'],
    ['groupNormalization NCHW', () => l.groupNormalization({groups: 2, axis: 1}), 'NCHW'],
    ['instanceNormalization', () => l.instanceNormalization({}), 'NHWC'],
    ['inPlaceABN', () => l.inPlaceABN({}), 'NHWC'],
    ['rmsNormalization', () => l.rmsNormalization({}), 'NHWC'],
    ['batchNormalization renorm', () => l.batchNormalization({renorm: true, renormClipping: {rmax: 3, dmax: 5}}), 'NHWC'],
    ['instanceNormalization trackRunningStats', () => l.instanceNormalization({trackRunningStats: true}), 'NHWC'],
  ];
}

/** Images of two classes (bright top half or bright left half), channels last or first. */
function data(tf: TF, n: number, format: 'NHWC' | 'NCHW') {
  return tf.tidy(() => {
    const labels = Array.from({length: n}, (_, i) => i % 2);
    const imgs = labels.map((c, i) => tf.tidy(() => {
      const base = tf.randomNormal([6, 6, 1], 0, 0.3, 'float32', i);
      const mask = c === 0
        ? tf.concat([tf.ones([3, 6, 1]), tf.zeros([3, 6, 1])], 0)
        : tf.concat([tf.ones([6, 3, 1]), tf.zeros([6, 3, 1])], 1);
      return tf.add(base, mask);
    }));
    const x = tf.stack(imgs) as tfType.Tensor4D;
    return {x: format === 'NCHW' ? tf.transpose(x, [0, 3, 1, 2]) : x, y: tf.oneHot(tf.tensor1d(labels, 'int32'), 2)};
  });
}

export async function fitEachLayer(tf: TF, norms: Norms, epochs = 8): Promise<FitResult[]> {
  const out: FitResult[] = [];
  for (const [name, make, format] of layerFactories(norms)) {
    const {x, y} = data(tf, 32, format);
    const before = tf.memory().numTensors;
    const model = tf.sequential();
    const inputShape = format === 'NCHW' ? [1, 6, 6] : [6, 6, 1];
    // A channels-first conv is not available on every backend: a 1×1 conv as a dense layer on
    // axis 1 keeps NCHW data NCHW.
    if (format === 'NCHW') {
      model.add(tf.layers.permute({inputShape, dims: [2, 3, 1]}));
      model.add(tf.layers.dense({units: 4}));
      model.add(tf.layers.permute({dims: [3, 1, 2]}));
    } else {
      model.add(tf.layers.conv2d({inputShape, filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotNormal({seed: 1})}));
    }
    model.add(make());
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotNormal({seed: 2})}));
    const optimizer = tf.train.adam(0.02);
    model.compile({optimizer, loss: 'categoricalCrossentropy'});
    const h = await model.fit(x, y, {epochs, batchSize: 16, verbose: 0, shuffle: false});
    model.dispose();
    optimizer.dispose();
    out.push({name, losses: h.history.loss as number[], leaked: tf.memory().numTensors - before});
    tf.dispose([x, y]);
  }
  return out;
}

/** A case of test/fixtures/moving_stats.json: layer arguments, batches, and the moving statistics after each. */
export interface MovingStatsCase {
  name: string;
  oracle: string;
  layer: Record<string, unknown>;
  batches: Array<{shape: number[]; data: number[]}>;
  after: Array<{mean: number[]; variance: number[]}>;
}

/** The layers that keep moving statistics, built from a moving-statistics case's arguments. */
export function movingStatsLayers(norms: Norms): Array<[string, (args: Record<string, unknown>) => tfType.layers.Layer]> {
  const l = norms.layers;
  return [
    ['batchNormalization', (args) => l.batchNormalization(args as never)],
    ['syncBatchNormalization (world of one)', (args) => l.syncBatchNormalization(args as never)],
    // The statistics are those of the input, whatever activation follows.
    ['inPlaceABN', (args) => l.inPlaceABN(args as never)],
  ];
}

/**
 * Trains `layer` (the only layer of a model) with model.fit on the case's batches, one step per
 * batch in order, and compares its moving statistics after each step with the case's
 * (PyTorch or the Keras formula). Returns the mismatches (empty when it passes).
 */
export async function movingStatsInFit(tf: TF, layer: tfType.layers.Layer, c: MovingStatsCase): Promise<string[]> {
  const batch = c.batches[0].shape;
  const model = tf.sequential({layers: [tf.layers.inputLayer({inputShape: batch.slice(1)}), layer]});
  const optimizer = tf.train.sgd(0.1);
  model.compile({optimizer, loss: 'meanSquaredError'});
  const x = tf.tidy(() => tf.concat(c.batches.map((b) => tf.tensor(b.data, b.shape))));
  const y = tf.zerosLike(x);
  const read = (suffix: string) => {
    const w = layer.weights.find((v) => v.name.endsWith(suffix));
    return w ? Array.from(w.read().dataSync()) : [];
  };
  const bad: string[] = [];
  const steps: number[] = [];
  await model.fit(x, y, {
    batchSize: batch[0], epochs: 1, shuffle: false, verbose: 0,
    callbacks: {onBatchEnd: async (step: number) => {
      steps.push(step);
      const want = c.after[step];
      const C = want.mean.length;
      bad.push(...compare(`${c.name} step ${step} moving_mean`, read('moving_mean'), {shape: [C], data: want.mean}, 1e-5, 1e-5));
      bad.push(...compare(`${c.name} step ${step} moving_variance`, read('moving_variance'), {shape: [C], data: want.variance}, 1e-5, 1e-5));
    }},
  });
  if (steps.length !== c.after.length) bad.push(`${c.name}: ${steps.length} steps for ${c.after.length} batches`);
  model.dispose();
  optimizer.dispose();
  tf.dispose([x, y]);
  return bad;
}
