/**
 * The in-browser side of the webgl layers suite: model.fit with every layer (the jest-free
 * test/support/layer_checks.ts), moving statistics against the references of
 * test/fixtures/moving_stats.json (through layer.apply and through model.fit), and save/load
 * round trips with identical predictions, all on the webgl backend.
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import '../../src/webgl.js';
import {fitEachLayer, type FitResult} from '../support/layer_checks.js';
import {guarded, startWebgl, type CheckResult} from './guard.js';

export interface MovingCase {
  name: string;
  oracle: string;
  layer: Record<string, unknown>;
  batches: Array<{shape: number[]; data: number[]}>;
  after: Array<{mean: number[]; variance: number[]}>;
}

/** The layers whose moving statistics follow the batch-norm conventions. */
const MOVING_LAYERS = ['batchNormalization', 'syncBatchNormalization'] as const;
type MovingLayer = typeof MOVING_LAYERS[number];

/** `expect(got).toBeCloseTo(want, 5)` of the cpu suite: |got - want| < 0.5e-5. */
function closeTo(name: string, got: ArrayLike<number>, want: number[]): string[] {
  const bad: string[] = [];
  want.forEach((w, i) => {
    if (!(Math.abs(got[i] - w) < 0.5e-5)) bad.push(`${name}[${i}]: got ${got[i]}, expected ${w}`);
  });
  return bad;
}

function movingStats(layer: tf.layers.Layer): [tf.Tensor, tf.Tensor] {
  const w = layer.getWeights();
  return [w[w.length - 2], w[w.length - 1]];
}

/** One training-mode layer.apply per batch; the moving statistics after each. */
function viaApply(kind: MovingLayer, c: MovingCase): string[] {
  const layer = norms.layers[kind](c.layer as never);
  const bad: string[] = [];
  try {
    c.batches.forEach((b, i) => {
      tf.tidy(() => { layer.apply(tf.tensor(b.data, b.shape), {training: true}); });
      const [mean, variance] = movingStats(layer);
      bad.push(...closeTo(`step ${i + 1} moving_mean`, mean.dataSync(), c.after[i].mean));
      bad.push(...closeTo(`step ${i + 1} moving_variance`, variance.dataSync(), c.after[i].variance));
    });
  } finally {
    layer.dispose();
  }
  return bad;
}

/** model.fit over the same batches (batchSize = one batch, no shuffling): the final moving statistics. */
async function viaFit(kind: MovingLayer, c: MovingCase): Promise<string[]> {
  const shape = c.batches[0].shape;
  const layer = norms.layers[kind](c.layer as never);
  const model = tf.sequential({layers: [tf.layers.inputLayer({inputShape: shape.slice(1)}), layer]});
  const optimizer = tf.train.sgd(0.1);
  model.compile({optimizer, loss: 'meanSquaredError'});
  const x = tf.tensor(c.batches.flatMap((b) => b.data), [c.batches.length * shape[0], ...shape.slice(1)]);
  const y = tf.zerosLike(x);
  try {
    await model.fit(x, y, {epochs: 1, batchSize: shape[0], shuffle: false, verbose: 0});
    const [mean, variance] = movingStats(layer);
    const last = c.after[c.after.length - 1];
    return [...closeTo('moving_mean', mean.dataSync(), last.mean), ...closeTo('moving_variance', variance.dataSync(), last.variance)];
  } finally {
    tf.dispose([x, y]);
    model.dispose();
    optimizer.dispose();
  }
}

async function moving(cases: MovingCase[]): Promise<Record<string, CheckResult>> {
  const out: Record<string, CheckResult> = {};
  for (const kind of MOVING_LAYERS) {
    for (const c of cases) {
      out[`${kind} ${c.name}: layer.apply`] = await guarded(() => viaApply(kind, c));
      out[`${kind} ${c.name}: model.fit`] = await guarded(() => viaFit(kind, c));
    }
  }
  return out;
}

async function fit(epochs: number): Promise<FitResult[]> {
  return fitEachLayer(tf, norms, epochs);
}

/** The save/load cases of test/layers/serialization.test.ts: [name, layer, input shape, class name]. */
const SAVE_CASES: Array<[string, () => tf.layers.Layer, number[], string]> = [
  ['batchNormalization', () => norms.layers.batchNormalization({activation: 'leakyRelu', alpha: 0.2, momentum: null,
    unbiasedMovingVariance: true, gammaRegularizer: 'l2', gammaConstraint: 'nonNeg'}), [5, 4], 'NormsBatchNormalization'],
  ['syncBatchNormalization', () => norms.layers.syncBatchNormalization({axis: 1, epsilon: 1e-4}), [3, 4, 4], 'SyncBatchNormalization'],
  ['layerNormalization', () => norms.layers.layerNormalization({axis: [-2, -1], center: false}), [3, 4], 'NormsLayerNormalization'],
  ['groupNormalization', () => norms.layers.groupNormalization({groups: 2, gammaInitializer: tf.initializers.randomNormal({seed: 1})}),
    [4, 4, 6], 'GroupNormalization'],
  ['instanceNormalization', () => norms.layers.instanceNormalization({scale: false}), [4, 4, 3], 'InstanceNormalization'],
  ['inPlaceABN', () => norms.layers.inPlaceABN({activation: 'elu'}), [4, 4, 3], 'InPlaceABN'],
];

async function roundTrip(make: () => tf.layers.Layer, inputShape: number[], className: string): Promise<string[]> {
  const model = tf.sequential({layers: [tf.layers.inputLayer({inputShape}), make()]});
  const x = tf.randomNormal([6, ...inputShape], 1, 2, 'float32', 3);
  const target = tf.zeros([6, ...inputShape]);
  const optimizer = tf.train.sgd(0.01);
  let loaded: tf.LayersModel | undefined;
  try {
    // Train once so that the moving statistics and weights are not the initial ones.
    model.compile({optimizer, loss: 'meanSquaredError'});
    await model.fit(x, target, {epochs: 1, verbose: 0});
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
    }));
    loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
    const bad: string[] = [];
    if (!JSON.stringify(artifacts!.modelTopology).includes(`"class_name":"${className}"`)) bad.push(`no class ${className}`);
    const a = tf.tidy(() => Array.from((model.predict(x) as tf.Tensor).dataSync()));
    const b = tf.tidy(() => Array.from((loaded!.predict(x) as tf.Tensor).dataSync()));
    const differ = a.findIndex((v, i) => v !== b[i]);
    if (a.length !== b.length || differ >= 0) bad.push(`predictions differ at ${differ}: ${a[differ]} vs ${b[differ]}`);
    const last = (m: tf.LayersModel) => m.layers[m.layers.length - 1].getConfig();
    if (JSON.stringify(last(loaded)) !== JSON.stringify(last(model))) bad.push('configs differ');
    return bad;
  } finally {
    tf.dispose([x, target]);
    model.dispose();
    loaded?.dispose();
    optimizer.dispose();
  }
}

async function saveLoad(): Promise<Record<string, CheckResult>> {
  const out: Record<string, CheckResult> = {};
  for (const [name, make, shape, cls] of SAVE_CASES) out[name] = await guarded(() => roundTrip(make, shape, cls));
  return out;
}

const api = {setup: startWebgl, fit, moving, saveLoad};

declare global {
  interface Window {
    layersTest: typeof api;
  }
}

window.layersTest = api;
