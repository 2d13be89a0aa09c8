import {op, type Tensor, type TensorLike} from '@tensorflow/tfjs-core';
import {channelView, normalize, slotCount} from './normalize.js';
import type {NormOptions} from './types.js';
import {
  channelAxis, checkActivation, checkDataFormat, checkEpsilon, checkOptions, fail, floatInput,
  paramInput,
} from './validate.js';

const OPTIONS = ['gamma', 'beta', 'epsilon', 'dataFormat', 'activation', 'alpha'] as const;

/**
 * Instance normalization (Ulyanov et al., 2016) with a fused activation.
 *
 * For each sample `n` and channel `c`, mean and biased variance over the spatial axes:
 * `y = act((x - mean[n,c]) / sqrt(variance[n,c] + epsilon) * gamma[c] + beta[c])`.
 * `x` has rank 3 to 5 (at least one spatial axis, more than one spatial element).
 *
 * ```js
 * const y = tfnorms.instanceNorm(x, {gamma, beta, activation: 'relu'});
 * ```
 */
function instanceNorm_(x: Tensor | TensorLike, opts: NormOptions = {}): Tensor {
  const name = 'instanceNorm';
  checkOptions(name, opts, OPTIONS);
  const $x = floatInput(name, 'x', x, 3, 5);
  const dataFormat = checkDataFormat(name, opts.dataFormat);
  const epsilon = checkEpsilon(name, opts.epsilon);
  const {activation, alpha} = checkActivation(name, opts.activation, opts.alpha);
  const C = $x.shape[channelAxis($x.rank, dataFormat)];
  const what = `one value per channel, channel axis ${channelAxis($x.rank, dataFormat)}`;
  const gamma = paramInput(name, 'gamma', opts.gamma, [C], what);
  const beta = paramInput(name, 'beta', opts.beta, [C], what);
  const view = channelView($x.rank, dataFormat, 0, true, C);
  if (slotCount($x, view) <= 1) {
    fail(name, `expected more than 1 spatial element, got input of shape [${$x.shape}]`);
  }
  return normalize($x, {...view, epsilon, activation, alpha}, [C], {gamma, beta, training: true}).y;
}

export const instanceNorm = op({instanceNorm_});
