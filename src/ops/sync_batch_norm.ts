import {
  customGrad, fill, type GradSaveFunc, op, reshape, tensor1d, type Tensor, type Tensor1D, type TensorLike,
} from '@tensorflow/tfjs-core';
import {type CollectiveGroup, resolveGroup} from '../collective/group.js';
import {mergeStats, packStats, splitMean} from '../collective/stats.js';
import {
  NormsApply, type NormApplyAttrs, NormsBackwardApply, NormsBackwardReduce, NormsMoments,
} from '../kernel_names.js';
import {runKernel} from '../run_kernel.js';
import {batchNorm, checkTrainingCount} from './batch_norm.js';
import {channelNormArgs} from './channel_args.js';
import {slotCount} from './normalize.js';
import type {NormOptions} from './types.js';
import {checkOptions, fail} from './validate.js';

export interface SyncBatchNormOptions extends NormOptions {
  /** The ranks to synchronize with. Default: the group set by `collective.init`, else a world of one. */
  group?: CollectiveGroup;
}

export interface SyncBatchNormResult {
  y: Tensor;
  /** Global batch mean per channel. */
  mean: Tensor1D;
  /** Global biased batch variance per channel. */
  variance: Tensor1D;
  /** Global number of elements per channel (summed over ranks). */
  count: number;
}

const OPTIONS = ['gamma', 'beta', 'epsilon', 'dataFormat', 'activation', 'alpha', 'group'] as const;

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
  const records = group.allGather(packStats(localStats(x, attrs, C, slotCount(x, attrs))));
  const global = mergeStats(records, C);
  if (global.count <= 1) {
    fail(name, `expected more than 1 value per channel over all ranks when training, got ${global.count}`);
  }
  const variance = global.m2.map((m2) => m2 / global.count);
  const {shift, offset} = splitMean(global.mean);
  const stats = {mean: tensor1d(offset), shift: tensor1d(shift), variance: tensor1d(Float32Array.from(variance))};
  return {global, variance, stats};
}

/**
 * Synchronized batch normalization (training mode) across the ranks of a collective group.
 *
 * The statistics cover the concatenation of every rank's batch: each rank computes its
 * per-channel `(count, mean, M2)` with the moments kernel, one all-reduce shares them, and
 * every rank merges them in rank order (Chan et al.) into the global mean and biased variance
 * `M2 / count`; then `y = act((x - mean[c]) / sqrt(variance[c] + epsilon) * gamma[c] + beta[c])`.
 * Ranks may hold different batch sizes, including zero.
 *
 * Backward: the local reduce gives Σdz·γ and Σdz·γ·x̂ per channel, one all-reduce sums them,
 * and `dx` follows with the global count, so `dx` equals the slice of the gradient of
 * `batchNorm` over the concatenated batch. `dgamma` and `dbeta` are this rank's share (as in
 * PyTorch's SyncBatchNorm): their sum over ranks is the concatenated batch's gradient, which a
 * data-parallel trainer gets by all-reducing parameter gradients. `mean` and `variance` are
 * returned without gradient. A world of one runs exactly `batchNorm`.
 *
 * ```js
 * collective.init(collective.joinThreadGroup(handle, rank));
 * const {y, mean, variance, count} = tfnorms.syncBatchNorm(x, {gamma, beta});
 * ```
 */
function syncBatchNorm_(x: Tensor | TensorLike, opts: SyncBatchNormOptions = {}): SyncBatchNormResult {
  const name = 'syncBatchNorm';
  checkOptions(name, opts, OPTIONS);
  const a = channelNormArgs(name, x, opts, {groups: 0, perSample: false});
  const group = resolveGroup(opts.group);
  const localCount = slotCount(a.x, a.attrs);
  if (group.worldSize === 1) {
    checkTrainingCount(name, localCount, a.x.shape);
    const {group: _g, ...rest} = opts;
    const r = batchNorm(a.x, {...rest, training: true});
    return {...r, count: localCount};
  }
  const {C, attrs} = a;
  const gamma = a.gamma ?? fill([C], 1);
  const beta = a.beta ?? fill([C], 0);
  const {global, variance, stats} = globalStats(name, group, a.x, attrs, C);

  const f = customGrad((...args: Array<Tensor | GradSaveFunc>) => {
    const [xx, g, b] = args as Tensor[];
    const save = args[3] as GradSaveFunc;
    const y = runKernel(NormsApply, {x: xx, gamma: g, beta: b, ...stats}, attrs) as Tensor;
    save([xx, g, b, stats.mean, stats.shift, stats.variance]);
    return {
      value: y,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, sg, sb, mean, sh, v] = saved;
        const inputs = {dy, x: sx, mean, shift: sh, variance: v, gamma: sg, beta: sb};
        const [sumDz, sumDzXhat, slotDg, slotDgX] = runKernel(NormsBackwardReduce, inputs, attrs) as Tensor[];
        const local = new Float64Array(2 * C);
        local.set(slotDg.dataSync());
        local.set(slotDgX.dataSync(), C);
        const sums = group.allReduceSum(local);
        const dx = runKernel(NormsBackwardApply, {
          ...inputs, slotSumDzGamma: tensor1d(Float32Array.from(sums.subarray(0, C))),
          slotSumDzGammaXhat: tensor1d(Float32Array.from(sums.subarray(C))),
        }, {...attrs, training: true, count: global.count}) as Tensor;
        return [dx, reshape(sumDzXhat, sg.shape), reshape(sumDz, sb.shape)];
      },
    };
  });
  return {
    y: f(a.x, gamma, beta),
    mean: tensor1d(Float32Array.from(global.mean)),
    variance: tensor1d(Float32Array.from(variance)),
    count: global.count,
  };
}

export const syncBatchNorm = op({syncBatchNorm_});
