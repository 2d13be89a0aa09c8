import {op, type Tensor, type TensorLike} from '@tensorflow/tfjs-core';
import {normalize} from './normalize.js';
import type {LayerNormOptions} from './types.js';
import {checkEpsilon, checkOptions, fail, floatInput, paramInput, shown} from './validate.js';

const OPTIONS = ['axes', 'gamma', 'beta', 'epsilon'] as const;

/** Normalizes `axes` (negative allowed) and checks they are the trailing axes of `rank`. */
export function trailingAxes(name: string, axes: number | number[] | undefined, rank: number, arg = 'axes'): number {
  const list = axes === undefined ? [-1] : Array.isArray(axes) ? axes : [axes];
  if (list.length === 0) fail(name, `'${arg}' must name at least one axis`);
  const norm = list.map((a) => {
    if (typeof a !== 'number' || !Number.isInteger(a) || a < -rank || a >= rank) {
      fail(name, `'${arg}' entries must be integers in [${-rank}, ${rank - 1}], got ${shown(axes)}`);
    }
    return a < 0 ? a + rank : a;
  });
  const sorted = [...new Set(norm)].sort((a, b) => a - b);
  if (sorted.length !== norm.length) fail(name, `'${arg}' has duplicates: ${shown(axes)}`);
  if (sorted[sorted.length - 1] !== rank - 1 || sorted[sorted.length - 1] - sorted[0] !== sorted.length - 1) {
    fail(name, `'${arg}' must be the trailing axes of the input (rank ${rank}), got ${shown(axes)}`);
  }
  return sorted.length;
}

/**
 * Layer normalization (Ba et al., 2016) over the trailing `axes` (default the last).
 *
 * For each position of the leading axes, mean and biased variance over the normalized axes:
 * `y = (x - mean) / sqrt(variance + epsilon) * gamma + beta`, where `gamma` and `beta` have the
 * shape of the normalized axes.
 *
 * ```js
 * const y = tfnorms.layerNorm(x, {axes: -1, gamma, beta});
 * ```
 */
function layerNorm_(x: Tensor | TensorLike, opts: LayerNormOptions = {}): Tensor {
  const name = 'layerNorm';
  checkOptions(name, opts, OPTIONS);
  const $x = floatInput(name, 'x', x);
  const k = trailingAxes(name, opts.axes, $x.rank);
  const epsilon = checkEpsilon(name, opts.epsilon);
  const paramShape = $x.shape.slice($x.rank - k);
  const what = 'the shape of the normalized axes';
  const gamma = paramInput(name, 'gamma', opts.gamma, paramShape, what);
  const beta = paramInput(name, 'beta', opts.beta, paramShape, what);
  const attrs = {
    layout: 'NSC' as const, batchAxes: $x.rank - k, channelAxes: k, groups: 1, perSample: true,
    epsilon, activation: 'linear' as const, alpha: 0,
  };
  return normalize($x, attrs, paramShape, {gamma, beta, training: true}).y;
}

export const layerNorm = op({layerNorm_});
