import {fill, op, type Tensor, type TensorLike} from '@tensorflow/tfjs-core';
import {NormsRMSNorm, type NormsRMSNormAttrs} from '../kernel_names.js';
import {runKernel} from '../run_kernel.js';
import {trailingAxes} from './layer_norm.js';
import type {RMSNormOptions} from './types.js';
import {checkEpsilon, checkOptions, floatInput, paramInput} from './validate.js';

const OPTIONS = ['axes', 'gamma', 'epsilon'] as const;

/** Keras's RMSNormalization default (PyTorch's is the dtype's machine epsilon). */
export const RMS_NORM_EPSILON = 1e-6;

/**
 * Root-mean-square normalization (Zhang & Sennrich, 2019) over the trailing `axes` (default the
 * last), as PyTorch's `rms_norm`, Keras's `RMSNormalization` and ONNX's `RMSNormalization`:
 * `y = x / sqrt(mean(x², axes) + epsilon) · gamma`, `gamma` of the shape of the normalized axes.
 * No mean is subtracted and there is no offset. Differentiable with respect to `x` and `gamma`.
 *
 * ```js
 * const y = tfnorms.rmsNorm(x, {gamma});   // x: [batch, seq, 768], gamma: [768]
 * ```
 */
function rmsNorm_(x: Tensor | TensorLike, opts: RMSNormOptions = {}): Tensor {
  const name = 'rmsNorm';
  checkOptions(name, opts, OPTIONS);
  const $x = floatInput(name, 'x', x, 1, 6);
  const axisCount = trailingAxes(name, opts.axes, $x.rank);
  const epsilon = opts.epsilon === undefined ? RMS_NORM_EPSILON : checkEpsilon(name, opts.epsilon);
  const paramShape = $x.shape.slice($x.rank - axisCount);
  // Absent gamma becomes ones, so each backend has one program and the gradient saves it.
  const gamma = paramInput(name, 'gamma', opts.gamma, paramShape, 'the shape of the normalized axes') ??
      fill(paramShape, 1);
  const attrs: NormsRMSNormAttrs = {axisCount, epsilon};
  const [y, invRms] = runKernel(NormsRMSNorm, {x: $x, gamma}, attrs) as Tensor[];
  invRms.dispose();
  return y;
}

export const rmsNorm = op({rmsNorm_});
