import {fill, op, type Tensor, type Tensor1D, type TensorLike} from '@tensorflow/tfjs-core';
import {type CollectiveGroup, resolveGroup} from '../collective/group.js';
import {syncTraining} from '../gradients/sync_training.js';
import {batchNorm, checkTrainingCount} from './batch_norm.js';
import {channelNormArgs} from './channel_args.js';
import {slotCount} from './normalize.js';
import type {NormOptions} from './types.js';
import {checkOptions} from './validate.js';

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
  return syncTraining(name, a.x, gamma, beta, attrs, C, group, false);
}

export const syncBatchNorm = op({syncBatchNorm_});
