/**
 * Synchronized training (SyncBatchNorm, InPlace-ABN Sync), forward and gradient in one place:
 * the global batch statistics of every rank's `x` (one all-gather of per-channel count, mean,
 * M2, merged in rank order) and a custom gradient that is `trainingGrad` with the per-slot sums
 * all-reduced over the ranks and the global count, x-driven or y-driven (`fromOutput`).
 */
import {customGrad, type GradSaveFunc, type NamedTensorMap, tensor1d, type Tensor, type Tensor1D} from '@tensorflow/tfjs-core';
import type {CollectiveGroup} from '../collective/group.js';
import {mergeStats, packStats, splitMean} from '../collective/stats.js';
import {NormsABNApply, NormsApply, NormsMoments, type NormApplyAttrs} from '../kernel_names.js';
import {normView} from '../norm_view.js';
import {fail} from '../ops/validate.js';
import {runKernel} from '../run_kernel.js';
import {invertibleGamma, trainingGrad} from './training_grad.js';

const read = (t: Tensor) => Float64Array.from(t.dataSync());

/** Per-channel (count, mean, M2) of this rank's batch, from the moments kernel. */
function localStats(x: Tensor, attrs: NormApplyAttrs, C: number, count: number) {
  if (count === 0) return {count: 0, mean: new Float64Array(C), m2: new Float64Array(C)};
  const [mean, variance, shift, offset] = runKernel(NormsMoments, {x}, attrs) as Tensor[];
  const m = read(offset);
  const sh = read(shift);
  const v = read(variance);
  for (let c = 0; c < C; c++) {
    m[c] += sh[c];
    v[c] *= count;
  }
  [mean, variance, shift, offset].forEach((t) => t.dispose());
  return {count, mean: m, m2: v};
}

/**
 * The global batch statistics of every rank's `x`: one all-reduce of each rank's per-channel
 * (count, mean, M2), merged in rank order. `stats` holds them as kernel inputs (the exact mean as
 * a shift/offset pair); they are made outside any custom-gradient function, which must create
 * nothing but its output.
 */
export function globalStats(name: string, group: CollectiveGroup, x: Tensor, attrs: NormApplyAttrs, C: number) {
  const records = group.allGather(packStats(localStats(x, attrs, C, normView(x.shape, attrs).count)));
  const global = mergeStats(records, C);
  if (global.count <= 1) {
    fail(name, `expected more than 1 value per channel over all ranks when training, got ${global.count}`);
  }
  const variance = global.m2.map((m2) => m2 / global.count);
  const {shift, offset} = splitMean(global.mean);
  const stats = {mean: tensor1d(offset), shift: tensor1d(shift), variance: tensor1d(Float32Array.from(variance))};
  return {global, variance, stats};
}

export interface SyncTrainingResult {
  y: Tensor;
  mean: Tensor1D;
  variance: Tensor1D;
  count: number;
}

/**
 * Training-mode normalization of `x` with statistics over every rank of `group`. `fromOutput`:
 * the gradient reads `y` (In-Place ABN) instead of `x`. dx is this rank's slice of the
 * concatenated batch's gradient; dgamma/dbeta this rank's share.
 */
export function syncTraining(
    name: string, x: Tensor, gamma: Tensor, beta: Tensor, attrs: NormApplyAttrs, C: number,
    group: CollectiveGroup, fromOutput: boolean): SyncTrainingResult {
  const {global, variance, stats} = globalStats(name, group, x, attrs, C);
  const allReduce = (slotDg: Tensor, slotDgX: Tensor): [Tensor, Tensor] => {
    const local = new Float64Array(2 * C);
    local.set(slotDg.dataSync());
    local.set(slotDgX.dataSync(), C);
    const sums = group.allReduceSum(local);
    return [tensor1d(Float32Array.from(sums.subarray(0, C))), tensor1d(Float32Array.from(sums.subarray(C)))];
  };
  const f = customGrad((...args: Array<Tensor | GradSaveFunc>) => {
    const [xx, g, b] = args as Tensor[];
    const save = args[3] as GradSaveFunc;
    const y = runKernel(fromOutput ? NormsABNApply : NormsApply, {x: xx, gamma: g, beta: b, ...stats} as NamedTensorMap,
                        attrs) as Tensor;
    save([fromOutput ? y : xx, g, b, stats.mean, stats.shift, stats.variance]);
    return {
      value: y,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [source, sg, sb, mean, shift, v] = saved;
        const inputs = fromOutput
          ? {dy, y: source, mean, variance: v, gamma: invertibleGamma(sg, attrs.epsilon), beta: sb}
          : {dy, x: source, shift, mean, variance: v, gamma: sg, beta: sb};
        const grads = trainingGrad(inputs, attrs, sg.shape, sb.shape, {count: global.count, combineSlotSums: allReduce});
        return [grads.x(), grads.gamma(), grads.beta()];
      },
    };
  });
  return {
    y: f(x, gamma, beta),
    mean: tensor1d(Float32Array.from(global.mean)),
    variance: tensor1d(Float32Array.from(variance)),
    count: global.count,
  };
}
