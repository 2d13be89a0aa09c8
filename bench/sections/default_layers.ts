/**
 * The defaultLayers section: one `model.fit` batch of models saved with tfjs-layers'
 * BatchNormalization / LayerNormalization (and of the Keras MobileNetV2 fixture), loaded twice
 * from the same files: as tfjs-layers builds them, and after `layers.useAsDefaultLayers()` (our
 * classes, same weights). The two run in interleaved rounds on the cpu backend in this process;
 * × is the median over rounds of tfjs-layers' time over ours.
 */
import * as tf from '@tensorflow/tfjs';
import {readFileSync} from 'node:fs';
import {cpus} from 'node:os';
import {join} from 'node:path';
import * as norms from '../../src/index.js';
import type {SectionResult} from '../report.js';
import type {TimeOptions} from '../interleave.js';

interface FitModel {
  label: string;
  input: number[];
  artifacts: () => Promise<tf.io.ModelArtifacts>;
}

async function saved(model: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  model.dispose();
  return artifacts!;
}

/** Three norm layers with a ReLU after each, then a small dense head (norm layers dominate the step). */
function normStack(input: number[], norm: () => tf.layers.Layer, head: tf.layers.Layer[]): tf.LayersModel {
  const model = tf.sequential({layers: [tf.layers.inputLayer({inputShape: input})]});
  for (let i = 0; i < 3; i++) {
    model.add(norm());
    model.add(tf.layers.reLU());
  }
  for (const l of head) model.add(l);
  return model;
}

const MODELS: FitModel[] = [
  {label: '3 × BatchNormalization (axis -1) + ReLU', input: [16, 16, 16, 32],
    artifacts: () => saved(normStack([16, 16, 32], () => tf.layers.batchNormalization({axis: -1}),
      [tf.layers.globalAveragePooling2d({}), tf.layers.dense({units: 10})]))},
  {label: '3 × BatchNormalization (axis 1) + ReLU', input: [16, 32, 16, 16],
    artifacts: () => saved(normStack([32, 16, 16], () => tf.layers.batchNormalization({axis: 1}),
      [tf.layers.flatten(), tf.layers.dense({units: 10})]))},
  {label: '3 × LayerNormalization + ReLU', input: [16, 64, 256],
    artifacts: () => saved(normStack([64, 256], () => tf.layers.layerNormalization({}),
      [tf.layers.globalAveragePooling1d({}), tf.layers.dense({units: 10})]))},
  {label: 'Keras MobileNetV2 (alpha 0.35, 52 BN; test/fixtures/keras)', input: [8, 32, 32, 3],
    artifacts: async () => {
      const dir = join('test', 'fixtures', 'keras', 'mobilenet_v2');
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
      const data = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p)))));
      return {modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)};
    }},
];

async function load(artifacts: tf.io.ModelArtifacts, ours: boolean): Promise<tf.LayersModel> {
  const restore = ours ? norms.layers.useAsDefaultLayers() : () => {};
  try {
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    model.compile({optimizer: tf.train.sgd(0.001), loss: 'meanSquaredError'});
    return model;
  } finally {
    restore();
  }
}

interface FitRow {
  label: string;
  input: number[];
  /** Null when tfjs-layers' classes cannot run the step (`theirsError` says why). */
  theirsMs: number | null;
  theirsError?: string;
  oursMs: number;
  ratio: number | null;
  /** Our classes the model was built with. */
  oursClasses: string;
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function timeModel(m: FitModel, rounds: number, log: (s: string) => void): Promise<FitRow> {
  const artifacts = await m.artifacts();
  const theirs = await load(artifacts, false);
  const ours = await load(artifacts, true);
  const classes = new Set(ours.layers.filter((l) => l instanceof norms.layers.BatchNormalization ||
    l instanceof norms.layers.LayerNormalization).map((l) => l.getClassName()));
  if (classes.size === 0) throw new Error(`${m.label}: useAsDefaultLayers built none of our classes`);
  const x = tf.randomNormal(m.input, 0, 1, 'float32', 1);
  const y = tf.randomNormal(theirs.outputs[0].shape.map((d) => d ?? m.input[0]), 0, 1, 'float32', 2);
  const step = async (model: tf.LayersModel) => {
    const t0 = performance.now();
    await model.fit(x, y, {batchSize: m.input[0], epochs: 1, verbose: 0, shuffle: false});
    return performance.now() - t0;
  };
  let theirsError: string | undefined;
  try {
    await step(theirs);
  } catch (e) {
    // tfjs-layers' channels-first BatchNormalization cannot train ("Size(…) must match the product of shape 1,C,1,1").
    theirsError = (e as Error).message.split('\n')[0];
  }
  await step(ours);
  const t: number[] = [];
  const o: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    if (theirsError === undefined) t.push(await step(theirs));
    o.push(await step(ours));
    if (theirsError === undefined) ratios.push(t[r] / o[r]);
  }
  const row: FitRow = {label: m.label, input: m.input, theirsMs: theirsError ? null : median(t), theirsError, oursMs: median(o),
    ratio: theirsError ? null : median(ratios), oursClasses: [...classes].join(', ')};
  log(`defaultLayers ${row.label}: tfjs-layers ${theirsError ? `fails: ${theirsError}` : `${row.theirsMs!.toFixed(1)} ms`}, ` +
    `ours ${row.oursMs.toFixed(1)} ms${row.ratio === null ? '' : `, ${row.ratio.toFixed(2)}×`}`);
  tf.dispose([x, y]);
  for (const model of [theirs, ours]) {
    model.optimizer.dispose();
    model.dispose();
  }
  return row;
}

export async function runDefaultLayers(opts: TimeOptions, log: (s: string) => void): Promise<SectionResult> {
  await tf.setBackend('cpu');
  const rounds = (opts.minRuns ?? 7) >= 7 ? 9 : 3;
  const rows: FitRow[] = [];
  for (const m of MODELS) rows.push(await timeModel(m, rounds, log));
  const environment = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, tfjs ${tf.version.tfjs}`;
  const checks = rows.filter((r) => !r.label.startsWith('Keras')).map((r) => ({
    label: r.ratio === null ? `${r.label}: model.fit runs after useAsDefaultLayers (tfjs-layers' classes fail)`
      : `${r.label}: model.fit step ${r.ratio.toFixed(2)}× faster after useAsDefaultLayers (> 1×)`,
    pass: r.ratio === null || r.ratio > 1,
  }));
  const markdown = [
    '### useAsDefaultLayers: model.fit with tfjs-layers\' saved models', '',
    'On the cpu backend.', '',
    'One batch of `model.fit` (SGD, mean squared error), each model loaded twice from the same saved files: as ' +
    'tfjs-layers builds it, and after `layers.useAsDefaultLayers()` (our classes, same weights). Median over ' +
    `${rounds} interleaved rounds; × is the median over rounds of tfjs-layers' time over ours. The MobileNetV2's ` +
    'step is mostly its convolutions (tfjs\'s cpu backend computes their gradients with scalar loops).', '',
    '| model | input | tfjs-layers ms | ours ms | × |',
    '|---|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.label} | [${r.input}] | ${r.theirsMs === null ? `fails: ${r.theirsError}` : r.theirsMs.toFixed(0)} | ` +
      `${r.oursMs.toFixed(0)} | ${r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`} |`),
    '', 'Targets:', '', ...checks.map((c) => `- ${c.pass ? '✅' : '❌'} ${c.label}`), '',
  ].join('\n');
  return {section: 'defaultLayers', backend: 'cpu', environment, date: new Date().toISOString().slice(0, 10), rows: [],
    extra: {markdown, checks}};
}
