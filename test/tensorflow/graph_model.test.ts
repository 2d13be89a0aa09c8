/**
 * tensorflow/tfjs#6864: converted graph models with training-mode FusedBatchNorm* nodes. Without
 * the opt-in, tfjs-converter runs them as inference batch norms with empty statistics (tfjs-node
 * throws, the cpu backend returns NaN); with `enableTrainingFusedBatchNorm(tf)` they compute
 * TensorFlow's results (batch statistics over the batch; a Keras LayerNormalization over each
 * row), checked against a float64 reference on the tensorflow and cpu backends. Every test
 * switches the opt-in off again, so the converter's own mapping is back for the other tests.
 */
import {materialize, tf, tfHandles, useTensorflow} from './support/tfnode.js';
import {batchNormModel, kerasLayerNormModel} from './support/graph_models.js';
import {disableTrainingFusedBatchNorm, enableTrainingFusedBatchNorm} from '../../src/index.js';
import * as node from '../../src/node.js';
import {compare} from '../support/fixtures.js';
import {reference} from '../support/reference.js';
import type {io, Tensor} from '@tensorflow/tfjs-core';
import type {GraphModel} from '@tensorflow/tfjs-converter';

beforeAll(async () => {
  await useTensorflow();
});

afterAll(async () => {
  await tf.setBackend('tensorflow');
});

let seed = 7;
function random(n: number, scale = 1, loc = 0): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    seed = (seed * 16807) % 2147483647;
    const u1 = seed / 2147483647;
    seed = (seed * 16807) % 2147483647;
    const u2 = seed / 2147483647;
    // Rounded to float32: the reference must see the values the model gets.
    out.push(Math.fround(loc + scale * Math.sqrt(-2 * Math.log(u1 + 1e-12)) * Math.cos(2 * Math.PI * u2)));
  }
  return out;
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Float64 batch norm over every axis but the channel axis (biased variance), or given statistics. */
function batchNormRef(x: number[], shape: number[], format: 'NHWC' | 'NCHW', scale: number[], offset: number[],
                      epsilon: number, given?: {mean: number[]; variance: number[]}) {
  const C = scale.length;
  const inner = format === 'NCHW' ? size(shape.slice(2)) : 1;
  const channelOf = (i: number) => Math.floor(i / inner) % C;
  const ref = reference(x, x.map(() => 0), scale, offset, {slotOf: channelOf, channelOf, slots: C, epsilon});
  if (!given) return ref;
  const y = x.map((v, i) => {
    const c = channelOf(i);
    return (v - given.mean[c]) / Math.sqrt(given.variance[c] + epsilon) * scale[c] + offset[c];
  });
  return {...ref, y};
}

async function load(artifacts: io.ModelArtifacts): Promise<GraphModel> {
  return await tf.loadGraphModel(tf.io.fromMemory(artifacts)) as unknown as GraphModel;
}

/** Runs the model on `x` and returns the requested outputs' values (everything disposed). */
function run(model: GraphModel, x: number[], shape: number[], outputs: string[] = ['y']): Float32Array[] {
  return tf.tidy(() => {
    const out = model.execute(tf.tensor(x, shape), outputs) as Tensor | Tensor[];
    return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
  });
}

const cases = [
  {op: 'FusedBatchNormV3', format: 'NHWC', shape: [4, 3, 3, 5]},
  {op: 'FusedBatchNormV3', format: 'NCHW', shape: [4, 5, 3, 3]},
  {op: 'FusedBatchNormV2', format: 'NHWC', shape: [6, 2, 5]},
  {op: 'FusedBatchNorm', format: 'NCHW', shape: [3, 5, 2, 4]},
] as const;

describe.each(['tensorflow', 'cpu'])('%s backend', (backend) => {
  beforeAll(async () => {
    await tf.setBackend(backend);
    expect(tf.getBackend()).toBe(backend);
  });
  afterEach(() => {
    disableTrainingFusedBatchNorm(tf);
  });

  describe.each(cases)('$op $format, is_training: true', ({op, format, shape}) => {
    const C = format === 'NCHW' ? shape[1] : shape[shape.length - 1];
    const scale = random(C, 0.5, 1);
    const offset = random(C, 0.5);
    const epsilon = 0.001;
    const artifacts = () => batchNormModel({op, shape: shape.map((d, i) => (i === 0 ? -1 : d)), format,
      training: true, scale, offset, epsilon});

    test('without the opt-in: tfjs-converter fails (tfjs-node) or returns NaN (cpu)', async () => {
      const model = await load(artifacts());
      const x = random(size([...shape]), 2, 0.5);
      if (backend === 'tensorflow') {
        expect(() => run(model, x, [...shape])).toThrow(/must have the same number of elements as the channels of x/);
      } else {
        expect(run(model, x, [...shape])[0].every((v) => Number.isNaN(v))).toBe(true);
      }
      model.dispose();
    });

    test('with the opt-in: batch statistics, and the six outputs of TensorFlow', async () => {
      enableTrainingFusedBatchNorm(tf);
      const model = await load(artifacts());
      const x = random(size([...shape]), 2, 0.5);
      const ref = batchNormRef(x, [...shape], format, scale, offset, epsilon);
      const count = x.length / C;
      const names = ['y', 'bn:1', 'bn:2', 'bn:3', 'bn:4', 'bn:5'];
      const before = tf.memory().numTensors;
      const [y, batchMean, batchVariance, saved1, saved2, reserve3] = run(model, x, [...shape], names);
      expect(tf.memory().numTensors).toBe(before);
      const unbiased = Array.from(ref.variance, (v) => v * count / (count - 1));
      expect([
        ...compare('y', y, {shape: [x.length], data: Array.from(ref.y)}),
        ...compare('batch_mean', batchMean, {shape: [C], data: Array.from(ref.mean)}),
        ...compare('batch_variance (Bessel-corrected)', batchVariance, {shape: [C], data: unbiased}),
        ...compare('reserve_space_1 (mean)', saved1, {shape: [C], data: Array.from(ref.mean)}),
        ...compare('reserve_space_2 (biased variance)', saved2, {shape: [C], data: Array.from(ref.variance)}),
      ]).toEqual([]);
      expect(reserve3).toHaveLength(0);
      model.dispose();
    });
  });

  test('the Keras LayerNormalization pattern (reshape to [1, rows, features, 1], NCHW, training)', async () => {
    const features = 8;
    const gamma = random(features, 0.5, 1);
    const beta = random(features, 0.5);
    const epsilon = 0.001;
    const artifacts = () => kerasLayerNormModel({features, gamma, beta, epsilon});
    const layerNormRef = (x: number[]) => reference(x, x.map(() => 0), gamma, beta, {
      slotOf: (i) => Math.floor(i / features), channelOf: (i) => i % features, slots: x.length / features, epsilon,
    }).y;

    const plain = await load(artifacts());
    const x0 = random(2 * 5 * features, 3, 1);
    if (backend === 'tensorflow') {
      expect(() => run(plain, x0, [2, 5, features])).toThrow(/must have the same number of elements as the channels of x/);
    } else {
      expect(run(plain, x0, [2, 5, features])[0].every((v) => Number.isNaN(v))).toBe(true);
    }
    plain.dispose();

    enableTrainingFusedBatchNorm(tf);
    const model = await load(artifacts());
    // Dynamic batch and sequence length: the graph computes the row count from the shape.
    for (const shape of [[2, 5, features], [3, 7, features], [1, 1, features]]) {
      const x = random(size(shape), 3, 1);
      expect(compare('y', run(model, x, shape)[0], {shape: [x.length], data: Array.from(layerNormRef(x))}))
        .toEqual([]);
    }
    // Far from zero, where E[x²] − E[x]² would fail.
    const far = random(size([2, 5, features]), 0.01, 1000);
    expect(compare('y', run(model, far, [2, 5, features])[0], {shape: [far.length], data: Array.from(layerNormRef(far))}))
      .toEqual([]);
    model.dispose();
  });

  test('with the opt-in, is_training: false nodes use the given statistics in either data_format', async () => {
    enableTrainingFusedBatchNorm(tf);
    for (const format of ['NHWC', 'NCHW'] as const) {
      const shape = format === 'NHWC' ? [2, 3, 4, 5] : [2, 5, 3, 4];
      const scale = random(5, 0.5, 1);
      const offset = random(5, 0.5);
      const mean = random(5, 0.5);
      const variance = random(5, 0.2, 1).map(Math.abs);
      const model = await load(batchNormModel({op: 'FusedBatchNormV3', shape, format, training: false,
        scale, offset, mean, variance, epsilon: 0.001}));
      const x = random(size(shape), 2, 0.5);
      const [y, m, v] = run(model, x, shape, ['y', 'bn:1', 'bn:2']);
      const ref = batchNormRef(x, shape, format, scale, offset, 0.001, {mean, variance});
      expect([
        ...compare('y', y, {shape: [x.length], data: Array.from(ref.y)}),
        ...compare('batch_mean', m, {shape: [5], data: mean}),
        ...compare('batch_variance', v, {shape: [5], data: variance}),
      ]).toEqual([]);
      model.dispose();
    }
  });

  test('exponential_avg_factor mixes the running statistics into outputs 1 and 2', async () => {
    enableTrainingFusedBatchNorm(tf);
    const shape = [6, 2, 2, 3];
    const scale = [1, 2, 0.5];
    const offset = [0, 1, -1];
    const mean = [0.5, -0.5, 2];
    const variance = [1, 2, 3];
    const factor = 0.25;
    const model = await load(batchNormModel({op: 'FusedBatchNormV3', shape, format: 'NHWC', training: true,
      scale, offset, mean, variance, epsilon: 0.001, factor}));
    const x = random(size(shape), 2, 0.5);
    const [y, m, v] = run(model, x, shape, ['y', 'bn:1', 'bn:2']);
    const ref = batchNormRef(x, shape, 'NHWC', scale, offset, 0.001);
    const count = x.length / 3;
    expect([
      ...compare('y', y, {shape: [x.length], data: Array.from(ref.y)}),
      ...compare('running mean', m, {shape: [3], data: mean.map((o, c) => (1 - factor) * o + factor * ref.mean[c])}),
      ...compare('running variance', v, {shape: [3],
        data: variance.map((o, c) => (1 - factor) * o + factor * ref.variance[c] * count / (count - 1))}),
    ]).toEqual([]);
    model.dispose();
  });

  test('idempotent, and switched off by disableTrainingFusedBatchNorm', async () => {
    const artifacts = batchNormModel({op: 'FusedBatchNormV3', shape: [-1, 2, 3], format: 'NHWC', training: true,
      scale: [1, 1, 1], offset: [0, 0, 0]});
    const x = random(12);
    enableTrainingFusedBatchNorm(tf);
    enableTrainingFusedBatchNorm(tf);
    const on = await load(artifacts);
    expect(run(on, x, [2, 2, 3])[0].some((v) => Number.isNaN(v))).toBe(false);
    on.dispose();
    disableTrainingFusedBatchNorm(tf);
    disableTrainingFusedBatchNorm(tf);
    const off = await load(artifacts);
    if (backend === 'tensorflow') expect(() => run(off, x, [2, 2, 3])).toThrow();
    else expect(run(off, x, [2, 2, 3])[0].every((v) => Number.isNaN(v))).toBe(true);
    off.dispose();
  });
});

test('no leaked tensors or TensorFlow handles', async () => {
  await tf.setBackend('tensorflow');
  enableTrainingFusedBatchNorm(tf);
  try {
    const start = tfHandles();
    const model = await load(kerasLayerNormModel({features: 4, gamma: [1, 2, 3, 4], beta: [0, 0, 1, 1], epsilon: 1e-3}));
    const x = tf.tensor(random(24), [2, 3, 4]);
    materialize(x);
    // The model's weights get their TensorFlow handles when first read (see leaks.test.ts).
    (model.execute(x) as Tensor).dispose();
    const before = tf.memory().numTensors;
    const handles = tfHandles();
    const y = model.execute(x) as Tensor;
    y.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(tfHandles()).toBe(handles);
    x.dispose();
    model.dispose();
    expect(tfHandles()).toBe(start);
  } finally {
    disableTrainingFusedBatchNorm(tf);
  }
});

test('exported from tfjs-norms and tfjs-norms/node; a clear error without a tfjs module', () => {
  expect(node.enableTrainingFusedBatchNorm).toBe(enableTrainingFusedBatchNorm);
  expect(node.disableTrainingFusedBatchNorm).toBe(disableTrainingFusedBatchNorm);
  expect(() => enableTrainingFusedBatchNorm({} as never)).toThrow(/pass the tfjs module that loads the graph model/);
});
