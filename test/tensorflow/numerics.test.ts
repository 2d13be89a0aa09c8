/**
 * Realistic sizes against the float64 reference (test/support/reference.ts), on normal data, on
 * data far from zero (1000 + 0.01·noise) and on data whose mean sits inside and outside the
 * raw-input limit (RAW_SUMS_LIMIT, or RAW_MEAN_LIMIT for FusedBatchNorm*, standard deviations),
 * forward and backward; and the paths taken: raw x into the reductions and native ops when its
 * statistics allow, x − shift first otherwise. On a CPU, channels-first BatchNorm/InstanceNorm take the reductions; the
 * FusedBatchNorm* path that GPUs take for them is forced once more here so it stays tested.
 */
import {opsRun} from './support/ops_log.js';
import {nativePathFlags, type NativePaths, RAW_MEAN_LIMIT, RAW_SUMS_LIMIT} from '../../kernels/tensorflow/norm_graph.js';
import {setFlags} from '../../src/flags.js';
import {tf, useTensorflow} from './support/tfnode.js';
import {batchNorm, groupNorm, instanceNorm, layerNorm} from '../../src/index.js';
import {compare} from '../support/fixtures.js';
import {reference, type RefSpec} from '../support/reference.js';
import type {Tensor} from '@tensorflow/tfjs-core';

beforeAll(async () => {
  await useTensorflow();
});

interface Variant {
  name: string;
  shape: number[];
  run: (x: Tensor, g: Tensor, b: Tensor) => Tensor;
  spec: (shape: number[]) => RefSpec;
  paramShape: (shape: number[]) => number[];
  /** Ops that the raw path of normal data runs. */
  native: string[];
  /** Paths forced for this variant. */
  paths?: Partial<NativePaths>;
  /** How often the training step (forward and backward) runs these ops, for every kind of data. */
  stepCounts?: Record<string, number>;
}

const eps = 1e-5;
const nhwcChannel = (shape: number[]) => (i: number) => i % shape[shape.length - 1];
const nchwChannel = (shape: number[]) => (i: number) => Math.floor(i / shape.slice(2).reduce((a, b) => a * b, 1)) % shape[1];
const sampleOf = (shape: number[]) => (i: number) => Math.floor(i / shape.slice(1).reduce((a, b) => a * b, 1));

const variants: Variant[] = [
  {name: 'batchNorm NHWC', shape: [8, 16, 16, 32], native: ['FusedBatchNormV3'],
    run: (x, g, b) => batchNorm(x, {training: true, gamma: g, beta: b}).y,
    spec: (s) => ({slotOf: nhwcChannel(s), channelOf: nhwcChannel(s), slots: s[3], epsilon: eps}), paramShape: (s) => [s[3]]},
  {name: 'batchNorm NCHW', shape: [8, 32, 16, 16], native: ['Sum', 'EuclideanNorm'],
    run: (x, g, b) => batchNorm(x, {training: true, gamma: g, beta: b, dataFormat: 'NCHW'}).y,
    spec: (s) => ({slotOf: nchwChannel(s), channelOf: nchwChannel(s), slots: s[1], epsilon: eps}), paramShape: (s) => [s[1]]},
  {name: 'batchNorm NCHW, FusedBatchNorm* (the GPU path)', shape: [8, 32, 16, 16], native: ['FusedBatchNormV3', 'FusedBatchNormGradV3'],
    paths: {fusedBatchNormChannelsFirst: 'always'},
    run: (x, g, b) => batchNorm(x, {training: true, gamma: g, beta: b, dataFormat: 'NCHW'}).y,
    spec: (s) => ({slotOf: nchwChannel(s), channelOf: nchwChannel(s), slots: s[1], epsilon: eps}), paramShape: (s) => [s[1]]},
  {name: 'instanceNorm NCHW', shape: [4, 16, 16, 16], native: ['Sum', 'EuclideanNorm'],
    run: (x, g, b) => instanceNorm(x, {gamma: g, beta: b, dataFormat: 'NCHW'}),
    spec: (s) => ({slotOf: (i) => sampleOf(s)(i) * s[1] + nchwChannel(s)(i), channelOf: nchwChannel(s), slots: s[0] * s[1], epsilon: eps}),
    paramShape: (s) => [s[1]]},
  {name: 'instanceNorm NCHW, FusedBatchNorm* (the GPU path)', shape: [4, 16, 16, 16], native: ['FusedBatchNormV3', 'FusedBatchNormGradV3'],
    paths: {fusedBatchNormChannelsFirst: 'always'},
    run: (x, g, b) => instanceNorm(x, {gamma: g, beta: b, dataFormat: 'NCHW'}),
    spec: (s) => ({slotOf: (i) => sampleOf(s)(i) * s[1] + nchwChannel(s)(i), channelOf: nchwChannel(s), slots: s[0] * s[1], epsilon: eps}),
    paramShape: (s) => [s[1]]},
  {name: 'instanceNorm NHWC', shape: [4, 16, 16, 16], native: ['Sum', 'EuclideanNorm'],
    run: (x, g, b) => instanceNorm(x, {gamma: g, beta: b}),
    spec: (s) => ({slotOf: (i) => sampleOf(s)(i) * s[3] + nhwcChannel(s)(i), channelOf: nhwcChannel(s), slots: s[0] * s[3], epsilon: eps}),
    paramShape: (s) => [s[3]]},
  {name: 'groupNorm NHWC', shape: [4, 16, 16, 32], native: ['Sum', 'EuclideanNorm'],
    run: (x, g, b) => groupNorm(x, {groups: 8, gamma: g, beta: b}),
    spec: (s) => ({slotOf: (i) => sampleOf(s)(i) * 8 + Math.floor(nhwcChannel(s)(i) / 4), channelOf: nhwcChannel(s), slots: s[0] * 8, epsilon: eps}),
    paramShape: (s) => [s[3]]},
  {name: 'groupNorm NCHW', shape: [4, 32, 16, 16], native: ['Sum', 'EuclideanNorm'],
    run: (x, g, b) => groupNorm(x, {groups: 8, gamma: g, beta: b, dataFormat: 'NCHW'}),
    spec: (s) => ({slotOf: (i) => sampleOf(s)(i) * 8 + Math.floor(nchwChannel(s)(i) / 4), channelOf: nchwChannel(s), slots: s[0] * 8, epsilon: eps}),
    paramShape: (s) => [s[1]]},
  // The backward's x̂ is _MklLayerNorm's too (one pass where Sub and Mul are two).
  {name: 'layerNorm', shape: [4, 64, 256], native: ['_MklLayerNorm'], stepCounts: {_MklLayerNorm: 2},
    run: (x, g, b) => layerNorm(x, {gamma: g, beta: b}),
    spec: (s) => ({slotOf: (i) => Math.floor(i / s[2]), channelOf: (i) => i % s[2], slots: s[0] * s[1], epsilon: eps}),
    paramShape: (s) => [s[2]]},
];

function randomData(n: number, seed: number, scale: number, loc: number): Float32Array {
  const t = tf.randomNormal([n], loc, scale, 'float32', seed);
  const d = t.dataSync() as Float32Array;
  t.dispose();
  return d;
}

/** Data kinds relative to the variant's raw-input limit (standard deviations of |mean|). */
const data = (limit: number) => [
  ['normal data', 1.5, 0.3, true],
  ['data far from zero', 0.01, 1000, false],
  // Per-slot sample means and deviations scatter by a few percent around loc and 1.
  ['mean inside the raw-input limit', 1, limit - 1, true],
  ['mean outside the raw-input limit', 1, limit + 1, false],
] as const;

describe.each(variants)('$name', (variant) => {
  let restore = () => {};
  beforeAll(() => {
    restore = setFlags(nativePathFlags(variant.paths ?? {}));
  });
  afterAll(() => restore());
  const fused = variant.native.includes('FusedBatchNormV3');

  test.each(data(fused ? RAW_MEAN_LIMIT : RAW_SUMS_LIMIT))('%s', (_what, scale, loc, raw) => {
    const n = variant.shape.reduce((a, b) => a * b, 1);
    const ps = variant.paramShape(variant.shape);
    const xs = randomData(n, 1, scale, loc);
    const dys = randomData(n, 2, 1, 0);
    const gs = randomData(ps[0], 3, 0.5, 1);
    const bs = randomData(ps[0], 4, 0.5, 0);
    const ref = reference(xs, dys, gs, bs, variant.spec(variant.shape));
    const x = tf.tensor(xs, variant.shape);
    const dy = tf.tensor(dys, variant.shape);
    const g = tf.tensor(gs, ps);
    const b = tf.tensor(bs, ps);
    const forward = opsRun(() => tf.tidy(() => variant.run(x, g, b).dataSync()));
    const backward = opsRun(() => tf.tidy(() =>
      tf.grad((xx: Tensor) => tf.sum(tf.mul(variant.run(xx, g, b), dy)))(x).dataSync()));
    tf.dispose([x, dy, g, b]);
    expect([
      ...compare('y', forward.result, {shape: [n], data: Array.from(ref.y)}, 1e-4, 1e-4),
      ...compare('dx', backward.result, {shape: [n], data: Array.from(ref.dx)}, 1e-3, 1e-4),
    ]).toEqual([]);
    for (const op of variant.native) expect([...forward.ops, ...backward.ops]).toContain(op);
    for (const [op, k] of Object.entries(variant.stepCounts ?? {})) expect(backward.ops.filter((o) => o === op)).toHaveLength(k);
    // Raw x straight into the native ops and reductions when its statistics allow; else the
    // x − shift pass first.
    if (raw) expect(forward.ops).not.toContain('Sub');
    else expect(forward.ops).toContain('Sub');
    if ((fused || variant.stepCounts) && raw) expect(backward.ops).not.toContain('Sub');
  });
});
