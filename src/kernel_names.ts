/**
 * Kernel names of tfjs-norms and the typed inputs and attributes of each kernel.
 *
 * Every norm variant runs through the same five kernels on a *view* of `x`
 * (see `norm_view.ts`): statistics (`NormsMoments`), apply (`NormsApply`), the fused
 * training forward (`NormsNormalizeTraining` = moments + apply in one kernel), and the
 * backward pair (`NormsBackwardReduce`, `NormsBackwardApply`). Names carry the `Norms`
 * prefix so they never collide with tfjs-core's kernels.
 */
import type {NamedAttrMap, TensorInfo} from '@tensorflow/tfjs-core';

/** Activations fused into the apply and backward kernels. */
export type NormActivation = 'linear' | 'relu' | 'leakyRelu' | 'elu';
export const NORM_ACTIVATIONS: readonly NormActivation[] = ['linear', 'relu', 'leakyRelu', 'elu'];

/**
 * How a kernel views `x`. The shape splits into `[batch axes][channel axes][spatial axes]`
 * (`layout: 'NCS'`) or `[batch axes][spatial axes][channel axes]` (`layout: 'NSC'`), giving
 * `N`, `C`, `S` as the products of each block. Channels are split into `groups` contiguous
 * groups; there is one statistics slot per group (`perSample: false`, BatchNorm) or per
 * sample and group (`perSample: true`: LayerNorm, GroupNorm, InstanceNorm).
 */
export interface NormViewAttrs extends NamedAttrMap {
  layout: 'NCS' | 'NSC';
  batchAxes: number;
  channelAxes: number;
  groups: number;
  perSample: boolean;
}

/**
 * The elementwise part: `y = act((x - mean) * rsqrt(variance + epsilon) * gamma + beta)`.
 *
 * Kernels that take statistics accept an optional per-slot `shift`: the slot's mean is then
 * `shift + mean`, with `shift` a value of the data and `mean` the small offset from it. The
 * training kernels output that pair besides the rounded mean, so that `x - mean` stays exact in
 * float32 for data far from zero (e.g. 1000 + 0.01 * noise), where a float32 mean alone would
 * carry a rounding error comparable to the standard deviation.
 */
export interface NormApplyAttrs extends NormViewAttrs {
  epsilon: number;
  activation: NormActivation;
  alpha: number;
}

export const NormsMoments = 'NormsMoments';
export type NormsMomentsInputs = {x: TensorInfo};
/** Outputs `[mean, variance, shift, meanOffset]`, each `[slots]`, variance biased. */
export type NormsMomentsAttrs = NormViewAttrs;

export const NormsApply = 'NormsApply';
export type NormsApplyInputs = {
  x: TensorInfo; mean: TensorInfo; variance: TensorInfo; gamma?: TensorInfo; beta?: TensorInfo;
  shift?: TensorInfo;
};
export type NormsApplyAttrs = NormApplyAttrs;

export const NormsNormalizeTraining = 'NormsNormalizeTraining';
export type NormsNormalizeTrainingInputs = {x: TensorInfo; gamma?: TensorInfo; beta?: TensorInfo};
/** Outputs `[y, mean, variance, shift, meanOffset]` (see `NormApplyAttrs` for the last two). */
export type NormsNormalizeTrainingAttrs = NormApplyAttrs;

/**
 * The backward kernels recompute `xhat` and `z = xhat * gamma + beta` per element from `x` and
 * the saved statistics. In-Place ABN gives them `y` (the apply kernel's output) instead of `x`:
 * then `z = act⁻¹(y)` (`leakyRelu`: `y > 0 ? y : y / alpha`; `elu`: `y > 0 ? y : log1p(y / alpha)`;
 * `linear`: `y`) and `xhat = (z - beta) / gamma`, with `act'(z)` read from `y` (`leakyRelu`:
 * `y > 0 ? 1 : alpha`; `elu`: `y > 0 ? 1 : y + alpha`); `mean` and `shift` are then unused and
 * `relu` is not allowed (not invertible). Exactly one of `x` and `y` is given.
 */
export const NormsBackwardReduce = 'NormsBackwardReduce';
export type NormsBackwardReduceInputs = {
  dy: TensorInfo; x?: TensorInfo; y?: TensorInfo; mean: TensorInfo; variance: TensorInfo;
  gamma?: TensorInfo; beta?: TensorInfo; shift?: TensorInfo;
};
/**
 * Outputs `[sumDz, sumDzXhat, slotSumDzGamma, slotSumDzGammaXhat]`: with `dz = dy * act'(z)`,
 * the first two per channel (`[C]`, the gradients of beta and gamma), the last two per slot.
 */
export type NormsBackwardReduceAttrs = NormApplyAttrs;

export const NormsBackwardApply = 'NormsBackwardApply';
export type NormsBackwardApplyInputs = {
  x?: TensorInfo; y?: TensorInfo; mean: TensorInfo; variance: TensorInfo; shift?: TensorInfo;
  dy?: TensorInfo; gamma?: TensorInfo; beta?: TensorInfo;
  slotSumDzGamma?: TensorInfo; slotSumDzGammaXhat?: TensorInfo;
  dMean?: TensorInfo; dVariance?: TensorInfo;
};
/**
 * `dx = invstd * (dz * gamma - slotSumDzGamma / count - xhat * slotSumDzGammaXhat / count)
 *       + dMean / count + dVariance * 2 * (x - mean) / count`
 * when `training` (absent inputs count as zero), `dx = invstd * dz * gamma` otherwise.
 * `count` is the number of elements per slot (global across ranks for SyncBatchNorm).
 */
export interface NormsBackwardApplyAttrs extends NormApplyAttrs {
  training: boolean;
  count: number;
}

/**
 * Optional fused training backward: `NormsBackwardReduce` then `NormsBackwardApply` (training,
 * `count` from the view) in one kernel, outputs `[dx, sumDz, sumDzXhat]`. A backend that registers
 * it (cpu: float64 sums end to end; tensorflow: FusedBatchNormGradV3) is used by the training
 * gradient; the others get the two-kernel path. SyncBatchNorm always uses the two kernels.
 */
export const NormsBackwardTraining = 'NormsBackwardTraining';
export type NormsBackwardTrainingInputs = {
  dy: TensorInfo; x?: TensorInfo; y?: TensorInfo; mean: TensorInfo; variance: TensorInfo;
  gamma?: TensorInfo; beta?: TensorInfo; shift?: TensorInfo; dMean?: TensorInfo; dVariance?: TensorInfo;
};
export type NormsBackwardTrainingAttrs = NormApplyAttrs;

/**
 * In-Place ABN's kernels: the same computation as `NormsNormalizeTraining` and `NormsApply` (each
 * backend's kernel serves under both names, see `ensureKernelAlias`), registered under names of
 * their own because their gradients save the output `y` instead of the input `x`.
 */
export const NormsABNTraining = 'NormsABNTraining';
export const NormsABNApply = 'NormsABNApply';
export const KERNEL_ALIASES: Record<string, string> = {
  [NormsABNTraining]: NormsNormalizeTraining,
  [NormsABNApply]: NormsApply,
};

/**
 * RMSNorm over the trailing `axisCount` axes, seen as `[rows, D]`:
 * `invRms = (Σx²/D + epsilon)^-1/2` per row, `y = x · invRms · gamma` (`gamma` of the normalized
 * shape; the op passes ones when it is absent). Outputs `[y, invRms]` (`invRms` of `[rows]`,
 * saved for the gradient).
 */
export const NormsRMSNorm = 'NormsRMSNorm';
export type NormsRMSNormInputs = {x: TensorInfo; gamma: TensorInfo};
export interface NormsRMSNormAttrs extends NamedAttrMap {
  axisCount: number;
  epsilon: number;
}

/**
 * RMSNorm's backward: with `g = dy · gamma` and `x̂ = x · invRms`,
 * `dx = invRms · (g − x̂ · Σ(g · x̂) / D)` per row and `dgamma = Σ_rows dy · x̂`.
 * Outputs `[dx, dgamma]`.
 */
export const NormsRMSNormGrad = 'NormsRMSNormGrad';
export type NormsRMSNormGradInputs = {dy: TensorInfo; x: TensorInfo; invRms: TensorInfo; gamma: TensorInfo};
export type NormsRMSNormGradAttrs = NormsRMSNormAttrs;
