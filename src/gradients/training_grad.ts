/**
 * The one training-mode backward of every op: batch statistics depend on `x`, so
 * `dx = rstd * (dz·γ - Σdz·γ / count - x̂ * Σdz·γ·x̂ / count) + dMean / count + dVariance * 2(x - mean) / count`.
 * Two variants by their inputs: x-driven (`x`, `shift`: batchNorm, layerNorm, groupNorm, ...) and
 * y-driven (`y` and an invertible `gamma`: In-Place ABN, which never saves `x`).
 * Uses the backend's fused `NormsBackwardTraining` when it has one, else reduce then apply;
 * `combineSlotSums` (SyncBatchNorm's all-reduce) always takes the two-kernel path.
 */
import {
  abs, equal, maximum, mul, onesLike, sign, where, type Tensor,
} from '@tensorflow/tfjs-core';
import {NormsBackwardTraining, type NormApplyAttrs} from '../kernel_names.js';
import {normView} from '../norm_view.js';
import {hasKernel, runKernel} from '../run_kernel.js';
import {backwardApply, backwardReduce, defined} from './backward.js';
import {asShape} from './as_shape.js';

export interface TrainingGradInputs {
  dy: Tensor;
  /** x-driven: the input and its statistics' shift (the exact mean is shift + mean). */
  x?: Tensor;
  shift?: Tensor;
  /** y-driven: the output (then `gamma` must be invertible, see `invertibleGamma`). */
  y?: Tensor;
  mean: Tensor;
  variance: Tensor;
  gamma: Tensor;
  beta: Tensor;
  /** Upstream gradients of the returned statistics (absent: zero). */
  dMean?: Tensor;
  dVariance?: Tensor;
}

export interface TrainingGradOptions {
  /** Elements per slot the statistics cover. Default: the view of this `x` (or `y`). */
  count?: number;
  /** Combines the per-slot sums before the apply (SyncBatchNorm: one all-reduce over the ranks). */
  combineSlotSums?: (slotSumDzGamma: Tensor, slotSumDzGammaXhat: Tensor) => [Tensor, Tensor];
}

/** Gradients of x, gamma and beta (thunks, as a GradConfig returns them; gamma/beta in their own shapes). */
export interface TrainingGrads {
  x: () => Tensor;
  gamma: () => Tensor;
  beta: () => Tensor;
}

/**
 * `sign(gamma) * max(|gamma|, epsilon)`: the y-driven variant divides by gamma
 * (`x̂ = (act⁻¹(y) - beta) / gamma`), which stays finite (exact whenever |gamma| >= epsilon).
 */
export function invertibleGamma(gamma: Tensor, epsilon: number): Tensor {
  const s = where(equal(gamma, 0), onesLike(gamma), sign(gamma));
  return mul(s, maximum(abs(gamma), Math.max(epsilon, 1e-12)));
}

export function trainingGrad(
    inputs: TrainingGradInputs, attrs: NormApplyAttrs, gammaShape: number[], betaShape: number[],
    opts: TrainingGradOptions = {}): TrainingGrads {
  const source = inputs.x ?? inputs.y;
  if (source === undefined) throw new Error('trainingGrad: needs x or y');
  if (opts.combineSlotSums === undefined && hasKernel(NormsBackwardTraining)) {
    const [dx, sumDz, sumDzXhat] = runKernel(NormsBackwardTraining, defined(inputs), attrs) as Tensor[];
    return {x: () => dx, gamma: () => asShape(sumDzXhat, gammaShape), beta: () => asShape(sumDz, betaShape)};
  }
  const {dMean, dVariance, ...reduceInputs} = inputs;
  const sums = backwardReduce(reduceInputs, attrs);
  const [slotSumDzGamma, slotSumDzGammaXhat] = opts.combineSlotSums
    ? opts.combineSlotSums(sums.slotSumDzGamma, sums.slotSumDzGammaXhat)
    : [sums.slotSumDzGamma, sums.slotSumDzGammaXhat];
  const count = opts.count ?? normView(source.shape, attrs).count;
  return {
    x: () => backwardApply({...reduceInputs, slotSumDzGamma, slotSumDzGammaXhat, dMean, dVariance}, attrs, true, count),
    gamma: () => asShape(sums.sumDzXhat, gammaShape),
    beta: () => asShape(sums.sumDz, betaShape),
  };
}
