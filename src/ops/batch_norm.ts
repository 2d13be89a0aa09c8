import {op, type Tensor, type TensorLike} from '@tensorflow/tfjs-core';
import {channelView, normalize, slotCount} from './normalize.js';
import type {BatchNormOptions, BatchNormResult} from './types.js';
import {
  channelAxis, checkActivation, checkDataFormat, checkEpsilon, checkOptions, fail, floatInput,
  paramInput,
} from './validate.js';

const OPTIONS = ['training', 'gamma', 'beta', 'epsilon', 'dataFormat', 'activation', 'alpha',
  'mean', 'variance'] as const;

/**
 * Batch normalization with a fused activation.
 *
 * With `c` the channel axis (`dataFormat`) and statistics over every other axis:
 * `y = act((x - mean[c]) / sqrt(variance[c] + epsilon) * gamma[c] + beta[c])`.
 * `training: true` uses the batch's mean and biased variance (`Σ(x - mean)² / count`) and
 * returns them; `training: false` uses the given `mean` and `variance` and returns copies.
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
  const $x = floatInput(name, 'x', x);
  const dataFormat = checkDataFormat(name, opts.dataFormat);
  const epsilon = checkEpsilon(name, opts.epsilon);
  const {activation, alpha} = checkActivation(name, opts.activation, opts.alpha);
  const C = $x.shape[channelAxis($x.rank, dataFormat)];
  const what = `one value per channel, channel axis ${channelAxis($x.rank, dataFormat)}`;
  const gamma = paramInput(name, 'gamma', opts.gamma, [C], what);
  const beta = paramInput(name, 'beta', opts.beta, [C], what);
  const view = channelView($x.rank, dataFormat, 0, false, C);
  let mean: Tensor | undefined;
  let variance: Tensor | undefined;
  if (opts.training) {
    if (slotCount($x, view) <= 1) {
      fail(name, `expected more than 1 value per channel when training, got input of shape [${$x.shape}]`);
    }
  } else {
    if (opts.mean == null || opts.variance == null) {
      fail(name, `'mean' and 'variance' are required when 'training' is false`);
    }
    mean = paramInput(name, 'mean', opts.mean, [C], what);
    variance = paramInput(name, 'variance', opts.variance, [C], what);
  }
  return normalize($x, {...view, epsilon, activation, alpha}, [C],
                   {gamma, beta, training: opts.training, mean, variance});
}

export const batchNorm = op({batchNorm_});
