import {op, type Tensor, type TensorLike} from '@tensorflow/tfjs-core';
import {channelNormArgs} from './channel_args.js';
import {normalize, slotCount, type NormalizeResult} from './normalize.js';
import type {NormOptions} from './types.js';
import {checkOptions, fail} from './validate.js';

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
  const r = instanceNormWithStatistics(x, opts);
  r.mean.dispose();
  r.variance.dispose();
  return r.y;
}

/**
 * `instanceNorm` that also returns the per-instance statistics (`[N·C]`, sample-major; biased
 * variance) and the elements per instance, for layers tracking running statistics.
 */
export function instanceNormWithStatistics(x: Tensor | TensorLike, opts: NormOptions = {}): NormalizeResult & {count: number} {
  const name = 'instanceNorm';
  checkOptions(name, opts, OPTIONS);
  const a = channelNormArgs(name, x, opts, {groups: 0, perSample: true, minRank: 3});
  const count = slotCount(a.x, a.attrs);
  if (count <= 1) {
    fail(name, `expected more than 1 spatial element, got input of shape [${a.x.shape}]`);
  }
  return {...normalize(a.x, a.attrs, [a.C], {gamma: a.gamma, beta: a.beta, training: true}), count};
}

export const instanceNorm = op({instanceNorm_});
