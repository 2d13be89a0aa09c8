import {op, type Tensor, type TensorLike} from '@tensorflow/tfjs-core';
import {channelNormArgs} from './channel_args.js';
import {normalize} from './normalize.js';
import type {GroupNormOptions} from './types.js';
import {checkOptions, checkStatisticsCount, fail} from './validate.js';

const OPTIONS = ['groups', 'gamma', 'beta', 'epsilon', 'dataFormat', 'activation', 'alpha'] as const;

/**
 * Group normalization (Wu & He, 2018) with a fused activation.
 *
 * The C channels are split into `groups` contiguous groups; for each sample `n` and group `g`,
 * mean and biased variance are taken over the group's channels and all spatial positions:
 * `y = act((x - mean[n,g]) / sqrt(variance[n,g] + epsilon) * gamma[c] + beta[c])`.
 * `groups = 1` normalizes each sample over everything; `groups = C` is instance norm.
 *
 * ```js
 * const y = tfnorms.groupNorm(x, {groups: 8, gamma, beta, dataFormat: 'NCHW'});
 * ```
 */
function groupNorm_(x: Tensor | TensorLike, opts: GroupNormOptions): Tensor {
  const name = 'groupNorm';
  if (opts === undefined) fail(name, `options with 'groups' are required`);
  checkOptions(name, opts, OPTIONS);
  const {groups} = opts;
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1) {
    fail(name, `'groups' must be a positive integer, got ${String(groups)}`);
  }
  const a = channelNormArgs(name, x, opts, {groups, perSample: true});
  if (a.C % groups !== 0) fail(name, `'groups' (${groups}) must divide the number of channels (${a.C})`);
  checkStatisticsCount(name, a.x.shape, a.attrs);
  return normalize(a.x, a.attrs, [a.C], {gamma: a.gamma, beta: a.beta, training: true}).y;
}

export const groupNorm = op({groupNorm_});
