/**
 * The in-browser side of the webgl layers suite: model.fit with every layer (the jest-free
 * test/support/layer_checks.ts), moving statistics against the references of
 * test/fixtures/moving_stats.json (through layer.apply and inside model.fit), and save/load
 * round trips with identical predictions, all on the webgl backend.
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import '../../src/webgl.js';
import {fitEachLayer, movingStatsInFit, movingStatsLayers, type FitResult, type MovingStatsCase} from '../support/layer_checks.js';
import {guarded, startWebgl, type CheckResult} from './guard.js';

/** `expect(got).toBeCloseTo(want, 5)` of the cpu suite: |got - want| < 0.5e-5. */
function closeTo(name: string, got: ArrayLike<number>, want: number[]): string[] {
  const bad: string[] = [];
  want.forEach((w, i) => {
    if (!(Math.abs(got[i] - w) < 0.5e-5)) bad.push(`${name}[${i}]: got ${got[i]}, expected ${w}`);
  });
  return bad;
}

function movingStats(layer: tf.layers.Layer): [tf.Tensor, tf.Tensor] {
  const read = (name: string) => layer.weights.find((w) => w.originalName === name || w.originalName.endsWith(`/${name}`))!.read();
  return [read('moving_mean'), read('moving_variance')];
}

/** One training-mode layer.apply per batch; the moving statistics after each. */
function viaApply(layer: tf.layers.Layer, c: MovingStatsCase): string[] {
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

/**
 * Every layer that keeps moving statistics (test/support/layer_checks.ts) on every case, through
 * layer.apply and inside model.fit (one step per batch, checked after each).
 */
async function moving(cases: MovingStatsCase[]): Promise<Record<string, CheckResult>> {
  const out: Record<string, CheckResult> = {};
  for (const [name, make] of movingStatsLayers(norms)) {
    for (const c of cases) {
      out[`${name}: ${c.name}: layer.apply`] = await guarded(() => viaApply(make(c.layer), c));
      out[`${name}: ${c.name}: model.fit`] = await guarded(() => movingStatsInFit(tf, make(c.layer), c));
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
