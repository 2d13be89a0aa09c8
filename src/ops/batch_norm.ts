import {op, type Tensor, type TensorLike} from '@tensorflow/tfjs-core';
import {channelNormArgs} from './channel_args.js';
import {normalize, slotCount} from './normalize.js';
import type {BatchNormOptions, BatchNormResult} from './types.js';
import {checkOptions, fail, paramInput} from './validate.js';

const OPTIONS = ['training', 'gamma', 'beta', 'epsilon', 'dataFormat', 'activation', 'alpha',
  'mean', 'variance'] as const;

/** Throws PyTorch's error for a batch with a single value per channel. */
export function checkTrainingCount(name: string, count: number, shape: readonly number[]): void {
  if (count <= 1) {
    fail(name, `expected more than 1 value per channel when training, got input of shape [${shape}]`);
  }
}

/**
 * Batch normalization with a fused activation.
 *
 * With `c` the channel axis (`dataFormat`) and statistics over every other axis:
 * `y = act((x - mean[c]) / sqrt(variance[c] + epsilon) * gamma[c] + beta[c])`.
 * `training: true` uses the batch's mean and biased variance (`Σ(x - mean)² / count`) and
 * returns them; `training: false` uses the given `mean` and `variance` and returns those same
 * tensor objects (not copies: only `y` is new).
 * Differentiable with respect to `x`, `gamma`, `beta` (and `mean`, `variance` in inference).
 *
 * ```js
 * const {y, mean, variance} = tfnorms.batchNorm(x, {training: true, gamma, beta, activation: 'relu'});
 * ```
 */
function batchNorm_(x: Tensor | TensorLike, opts: BatchNormOptions): BatchNormResult {
  const name = 'batchNorm';
  if (opts === undefined) fail(name, `options with 'training' are required`);
  checkOptions(name, opts, OPTIONS);
  if (typeof opts.training !== 'boolean') {
    fail(name, `'training' must be true or false, got ${String(opts.training)}`);
  }
  const a = channelNormArgs(name, x, opts, {groups: 0, perSample: false});
  let mean: Tensor | undefined;
  let variance: Tensor | undefined;
  if (opts.training) {
    checkTrainingCount(name, slotCount(a.x, a.attrs), a.x.shape);
  } else {
    if (opts.mean == null || opts.variance == null) {
      fail(name, `'mean' and 'variance' are required when 'training' is false`);
    }
    mean = paramInput(name, 'mean', opts.mean, [a.C], a.what);
    variance = paramInput(name, 'variance', opts.variance, [a.C], a.what);
  }
  return normalize(a.x, a.attrs, [a.C], {gamma: a.gamma, beta: a.beta, training: opts.training, mean, variance});
}

export const batchNorm = op({batchNorm_});
