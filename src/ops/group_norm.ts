import {op, type Tensor, type TensorLike} from '@tensorflow/tfjs-core';
import {channelView, normalize} from './normalize.js';
import type {GroupNormOptions} from './types.js';
import {
  channelAxis, checkActivation, checkDataFormat, checkEpsilon, checkOptions, fail, floatInput,
  paramInput,
} from './validate.js';

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
  const $x = floatInput(name, 'x', x);
  const dataFormat = checkDataFormat(name, opts.dataFormat);
  const epsilon = checkEpsilon(name, opts.epsilon);
  const {activation, alpha} = checkActivation(name, opts.activation, opts.alpha);
  const C = $x.shape[channelAxis($x.rank, dataFormat)];
  const {groups} = opts;
  if (typeof groups !== 'number' || !Number.isInteger(groups) || groups < 1) {
    fail(name, `'groups' must be a positive integer, got ${String(groups)}`);
  }
  if (C % groups !== 0) fail(name, `'groups' (${groups}) must divide the number of channels (${C})`);
  const what = `one value per channel, channel axis ${channelAxis($x.rank, dataFormat)}`;
  const gamma = paramInput(name, 'gamma', opts.gamma, [C], what);
  const beta = paramInput(name, 'beta', opts.beta, [C], what);
  const view = channelView($x.rank, dataFormat, groups, true, C);
  return normalize($x, {...view, epsilon, activation, alpha}, [C], {gamma, beta, training: true}).y;
}

export const groupNorm = op({groupNorm_});
