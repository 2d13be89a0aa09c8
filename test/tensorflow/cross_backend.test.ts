/**
 * Every tensorflow kernel against the cpu reference kernels (float64 loops) on the same inputs,
 * kernel by kernel, over views the ops do not all produce (several batch or channel axes,
 * groups with per-channel slots, odd shapes), normal and shifted data, with and without a
 * given shift, SyncBatchNorm's global count, upstream gradients of the statistics, and the
 * backward from the output y.
 */
import {tf, tfHandles, useTensorflow} from './support/tfnode.js';
import '../../src/index.js';
import {
  NormsApply, NormsBackwardApply, NormsBackwardReduce, NormsBackwardTraining, NormsMoments,
  NormsNormalizeTraining, type NormActivation, type NormViewAttrs,
} from '../../src/kernel_names.js';
import {normView} from '../../src/norm_view.js';
import {compare} from '../support/fixtures.js';
import type {NamedTensorMap, Tensor} from '@tensorflow/tfjs-core';

beforeAll(async () => {
  await useTensorflow();
});

type Data = Record<string, {shape: number[]; data: Float32Array} | undefined>;

/** Runs a kernel on a backend from host data; returns the outputs' values. */
async function runOn(backend: string, kernel: string, inputs: Data, attrs: object): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const named: NamedTensorMap = {};
    for (const [k, v] of Object.entries(inputs)) if (v) named[k] = tf.tensor(v.data, v.shape, 'float32');
    const out = tf.engine().runKernel(kernel, named, attrs as never) as Tensor | Tensor[];
    return (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
  });
}

let seed = 1;
function random(n: number, scale: number, loc: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed * 16807) % 2147483647;
    const u1 = seed / 2147483647;
    seed = (seed * 16807) % 2147483647;
    const u2 = seed / 2147483647;
    out[i] = loc + scale * Math.sqrt(-2 * Math.log(u1 + 1e-12)) * Math.cos(2 * Math.PI * u2);
  }
  return out;
}

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

interface ViewCase {
  name: string;
  shape: number[];
  view: NormViewAttrs;
  paramShape: number[];
}

const views: ViewCase[] = [
  {name: 'BatchNorm NSC rank 2', shape: [6, 5], view: {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 5, perSample: false}, paramShape: [5]},
  {name: 'BatchNorm NSC rank 4', shape: [2, 3, 4, 5], view: {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 5, perSample: false}, paramShape: [5]},
  {name: 'BatchNorm NSC rank 5', shape: [2, 2, 3, 2, 4], view: {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 4, perSample: false}, paramShape: [4]},
  {name: 'BatchNorm NCS rank 3', shape: [3, 4, 5], view: {layout: 'NCS', batchAxes: 1, channelAxes: 1, groups: 4, perSample: false}, paramShape: [4]},
  {name: 'BatchNorm NCS rank 4', shape: [2, 4, 3, 3], view: {layout: 'NCS', batchAxes: 1, channelAxes: 1, groups: 4, perSample: false}, paramShape: [4]},
  {name: 'BatchNorm NCS rank 5', shape: [2, 3, 2, 2, 3], view: {layout: 'NCS', batchAxes: 1, channelAxes: 1, groups: 3, perSample: false}, paramShape: [3]},
  {name: 'batch slots of 2 channels, NCS', shape: [3, 4, 5], view: {layout: 'NCS', batchAxes: 1, channelAxes: 1, groups: 2, perSample: false}, paramShape: [4]},
  {name: 'batch slots of 2 channels, NSC', shape: [3, 5, 4], view: {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 2, perSample: false}, paramShape: [4]},
  {name: 'InstanceNorm NCS rank 4', shape: [2, 4, 3, 3], view: {layout: 'NCS', batchAxes: 1, channelAxes: 1, groups: 4, perSample: true}, paramShape: [4]},
  {name: 'InstanceNorm NSC rank 3', shape: [2, 5, 4], view: {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 4, perSample: true}, paramShape: [4]},
  {name: 'GroupNorm NCS rank 4', shape: [2, 6, 3, 2], view: {layout: 'NCS', batchAxes: 1, channelAxes: 1, groups: 3, perSample: true}, paramShape: [6]},
  {name: 'GroupNorm NSC rank 4', shape: [2, 3, 2, 6], view: {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 2, perSample: true}, paramShape: [6]},
  {name: 'GroupNorm rank 2', shape: [4, 6], view: {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 3, perSample: true}, paramShape: [6]},
  {name: 'LayerNorm over 1 axis', shape: [3, 4, 8], view: {layout: 'NSC', batchAxes: 2, channelAxes: 1, groups: 1, perSample: true}, paramShape: [8]},
  {name: 'LayerNorm over 2 axes', shape: [2, 3, 4], view: {layout: 'NSC', batchAxes: 1, channelAxes: 2, groups: 1, perSample: true}, paramShape: [3, 4]},
  {name: 'two batch axes, spatial, NCS', shape: [2, 3, 4, 5], view: {layout: 'NCS', batchAxes: 2, channelAxes: 1, groups: 4, perSample: true}, paramShape: [4]},
  {name: 'two channel axes, spatial, NSC', shape: [2, 5, 2, 3], view: {layout: 'NSC', batchAxes: 1, channelAxes: 2, groups: 3, perSample: false}, paramShape: [2, 3]},
];

const acts: Array<[NormActivation, number]> = [['linear', 0], ['relu', 0], ['leakyRelu', 0.2], ['elu', 0.5]];

async function both(kernel: string, inputs: Data, attrs: object): Promise<string[]> {
  const cpu = await runOn('cpu', kernel, inputs, attrs);
  const handles = tfHandles();
  const tfOut = await runOn('tensorflow', kernel, inputs, attrs);
  const bad: string[] = [];
  if (tfHandles() !== handles) bad.push(`${kernel}: TensorFlow handles ${handles} -> ${tfHandles()}`);
  // The statistics kernels' [mean, variance, shift, meanOffset]: the pair (shift, meanOffset) is
  // compared as the exact mean it stands for, and its shift checked against the contract.
  const pair = kernel === NormsMoments ? 2 : kernel === NormsNormalizeTraining ? 3 : -1;
  cpu.forEach((c, i) => {
    if (pair >= 0 && (i === pair || i === pair + 1)) return;
    bad.push(...compare(`${kernel}[${i}]`, tfOut[i], {shape: [c.length], data: Array.from(c)}, 2e-4, 2e-4));
  });
  if (pair >= 0) bad.push(...exactMeans(kernel, cpu.slice(pair - 2, pair + 2), tfOut.slice(pair - 2, pair + 2)));
  return bad;
}

/**
 * docs/kernels.md: `shift` is the slot's first element, or (where a kernel took raw sums, which
 * it does only when the float32 mean is exact enough) the mean rounded to float32; either way
 * `shift + meanOffset` is the slot's mean.
 */
function exactMeans(kernel: string, cpu: Float32Array[], tfOut: Float32Array[]): string[] {
  const [, cpuVariance, cpuShift, cpuOffset] = cpu;
  const [tfMean, , tfShift, tfOffset] = tfOut;
  const bad: string[] = [];
  for (let s = 0; s < cpuShift.length; s++) {
    const want = cpuShift[s] + cpuOffset[s];
    const got = tfShift[s] + tfOffset[s];
    const tol = 2e-4 * Math.sqrt(cpuVariance[s]) + 1e-7 * Math.abs(want);
    if (!(Math.abs(got - want) <= tol)) bad.push(`${kernel} exact mean[${s}]: ${got} vs ${want}`);
    if (tfShift[s] !== cpuShift[s] && tfShift[s] !== tfMean[s]) {
      bad.push(`${kernel} shift[${s}]: ${tfShift[s]} is neither the first element ${cpuShift[s]} nor the mean ${tfMean[s]}`);
    }
  }
  return bad;
}

describe.each(views)('$name', ({shape, view, paramShape}) => {
  test.each([['normal data', 1.5, 0.3], ['shifted data', 0.01, 1000]] as const)('%s', async (_n, scale, loc) => {
    const v = normView(shape, view);
    const n = size(shape);
    const P = size(paramShape);
    const x = {shape, data: random(n, scale, loc)};
    const dy = {shape, data: random(n, 1, 0)};
    const gamma = {shape: paramShape, data: random(P, 0.5, 1)};
    const beta = {shape: paramShape, data: random(P, 0.5, 0)};
    const slots = {shape: [v.slots], data: new Float32Array(v.slots)};
    const bad: string[] = [];
    for (const [activation, alpha] of acts) {
      const attrs = {...view, epsilon: 1e-3, activation, alpha};
      bad.push(...await both(NormsNormalizeTraining, {x, gamma, beta}, attrs));
      // Statistics and forward output from the cpu reference, as the gradients would save them.
      const [y, mean, variance, shift, meanOffset] = await runOn('cpu', NormsNormalizeTraining, {x, gamma, beta}, attrs);
      const stat = (d: Float32Array) => ({shape: [v.slots], data: d});
      const givenShift = {mean: stat(meanOffset), variance: stat(variance), shift: stat(shift)};
      const givenMean = {mean: stat(mean), variance: stat(variance)};
      bad.push(...await both(NormsApply, {x, gamma, beta, ...givenShift}, attrs));
      bad.push(...await both(NormsApply, {x, gamma, beta, ...givenMean}, attrs));
      const dMean = {shape: [v.slots], data: random(v.slots, 1, 0)};
      const dVariance = {shape: [v.slots], data: random(v.slots, 1, 0)};
      const sources: Data[] = [{x, ...givenShift}, {x, ...givenMean}];
      if (activation !== 'relu') sources.push({y: {shape, data: y}, ...givenShift});
      for (const src of sources) {
        bad.push(...await both(NormsBackwardReduce, {dy, gamma, beta, ...src}, attrs));
        const [, , sg, sgx] = await runOn('cpu', NormsBackwardReduce, {dy, gamma, beta, ...src}, attrs);
        const sums = {slotSumDzGamma: stat(sg), slotSumDzGammaXhat: stat(sgx)};
        bad.push(...await both(NormsBackwardApply, {dy, gamma, beta, ...src, ...sums, dMean, dVariance},
          {...attrs, training: true, count: 2 * v.count}));
        bad.push(...await both(NormsBackwardApply, {gamma, beta, ...src, dMean, dVariance},
          {...attrs, training: true, count: v.count}));
        bad.push(...await both(NormsBackwardApply, {dy, gamma, beta, ...src}, {...attrs, training: false, count: 0}));
        bad.push(...await both(NormsBackwardTraining, {dy, gamma, beta, ...src}, attrs));
        bad.push(...await both(NormsBackwardTraining, {dy, gamma, beta, ...src, dMean, dVariance}, attrs));
      }
      if (activation === 'linear') {
        bad.push(...await both(NormsMoments, {x}, view));
        const [m, , s] = await runOn('tensorflow', NormsMoments, {x}, view);
        // Shifted data never takes raw sums: there the shift is the slot's first element, exactly.
        if (loc >= 1000) expect(Array.from(s)).toEqual(Array.from(shift));
        else expect(Array.from(s).every((si, i) => si === shift[i] || si === m[i])).toBe(true);
      }
      void slots;
    }
    expect(bad.slice(0, 8)).toEqual([]);
  });
});
