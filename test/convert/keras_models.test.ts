/**
 * Models exported from Keras by the official converter (`tensorflowjs.converters.save_keras_model`,
 * made by scripts/keras_models/generate.py; Keras writes `axis` as a list, `[3]`): after
 * `convert.toSyncBatchNorm`, after the CLI's `convert --to sync`, and after
 * `layers.useAsDefaultLayers()`, our layers compute what Keras's own `model.predict` gave.
 */
import * as tf from '@tensorflow/tfjs';
import {execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {convert, layers} from '../../src/index.js';

const root = join(__dirname, '..', '..');
const FIXTURES = join(root, 'test', 'fixtures', 'keras');
const TOLERANCE = 1e-4;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface Predictions {
  inputShape: number[];
  input: number[];
  outputShape: number[];
  output: number[];
}

/** model.json + weights of a folder as tf.io artifacts (what `tf.loadLayersModel('file://…')` reads). */
function artifacts(dir: string, modelJson?: tf.io.ModelJSON): tf.io.ModelArtifacts {
  const json = modelJson ?? JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
  const data = Buffer.concat(buffers);
  return {
    modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
  };
}

const load = (dir: string, modelJson?: tf.io.ModelJSON) => tf.loadLayersModel(tf.io.fromMemory(artifacts(dir, modelJson)));

function predictions(name: string): Predictions {
  return JSON.parse(readFileSync(join(FIXTURES, name, 'predictions.json'), 'utf8')) as Predictions;
}

/** Largest |ours − Keras| over the fixture's inputs. */
function maxError(model: tf.LayersModel, p: Predictions): number {
  return tf.tidy(() => {
    const y = model.predict(tf.tensor(p.input, p.inputShape)) as tf.Tensor;
    expect(y.shape).toEqual(p.outputShape);
    return tf.max(tf.abs(tf.sub(y, tf.tensor(p.output, p.outputShape)))).dataSync()[0];
  });
}

const classNames = (m: tf.LayersModel) => m.layers.map((l) => l.getClassName());
const count = (names: string[], name: string) => names.filter((n) => n === name).length;

const MODELS = [
  // name, BatchNormalization layers, LayerNormalization layers, the axis Keras wrote for the first BN
  ['mobilenet_v2', 52, 0, [3]],
  ['channels_first', 3, 2, [1]],
] as const;

describe.each(MODELS)('%s (Keras → tensorflowjs converter)', (name, bns, lns, firstAxis) => {
  const dir = join(FIXTURES, name);
  const p = predictions(name);

  test('the file is what Keras writes: axis as a list', () => {
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const layersJson = json.modelTopology.model_config.config.layers as Array<{class_name: string; config: {axis: unknown}}>;
    expect(layersJson.find((l) => l.class_name === 'BatchNormalization')!.config.axis).toEqual(firstAxis);
    expect(json.convertedBy).toMatch(/TensorFlow.js Converter/);
  });

  test('convert.toSyncBatchNorm: every BatchNormalization synchronized, predictions match Keras', async () => {
    const plain = await load(dir);
    const sync = await convert.toSyncBatchNorm(plain);
    const names = classNames(sync);
    expect(count(names, 'SyncBatchNormalization')).toBe(bns);
    expect(count(names, 'BatchNormalization')).toBe(0);
    expect(maxError(sync, p)).toBeLessThan(TOLERANCE);
  });

  test('toSyncBatchNormJSON on model.json (the CLI\'s path), loaded back, matches Keras', async () => {
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const sync = await load(dir, convert.toSyncBatchNormJSON(json) as unknown as tf.io.ModelJSON);
    expect(sync.layers.filter((l) => l instanceof layers.SyncBatchNormalization).length).toBe(bns);
    expect(maxError(sync, p)).toBeLessThan(TOLERANCE);
  });

  test('useAsDefaultLayers: tf.loadLayersModel builds our classes, which match Keras; restore brings tfjs-layers back', async () => {
    const restore = layers.useAsDefaultLayers();
    let model: tf.LayersModel;
    try {
      model = await load(dir);
    } finally {
      restore();
    }
    const ours = model.layers.filter((l) => l instanceof layers.BatchNormalization && !(l instanceof layers.SyncBatchNormalization));
    expect(ours.length).toBe(bns);
    expect(model.layers.filter((l) => l instanceof layers.LayerNormalization).length).toBe(lns);
    expect(maxError(model, p)).toBeLessThan(TOLERANCE);
    const builtIn = await load(dir);
    expect(count(classNames(builtIn), 'BatchNormalization')).toBe(bns);
    expect(builtIn.layers.some((l) => l instanceof layers.BatchNormalization)).toBe(false);
  });
});

test('tfjs-norms convert --to sync on the Keras MobileNetV2 folder', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'tfjs-norms-keras-')), 'sync');
  const cli = join(root, 'bin', 'tfjs-norms.cjs');
  execFileSync(process.execPath, [cli, 'convert', join(FIXTURES, 'mobilenet_v2', 'model.json'), out, '--to', 'sync'], {encoding: 'utf8'});
  const sync = await load(out);
  expect(sync.layers.filter((l) => l instanceof layers.SyncBatchNormalization).length).toBe(52);
  expect(maxError(sync, predictions('mobilenet_v2'))).toBeLessThan(TOLERANCE);
});
