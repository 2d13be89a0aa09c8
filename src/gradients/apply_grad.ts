import {add, div, mul, rsqrt, type GradConfig, type Tensor} from '@tensorflow/tfjs-core';
import {NormsApply, type NormApplyAttrs, type NormsApplyAttrs} from '../kernel_names.js';
import {backwardApply, backwardReduce} from './backward.js';
import {asShape} from './as_shape.js';

/**
 * The one inference-mode backward (given statistics). With `r = (variance + eps)^-1/2`:
 * `dx = r * dz·γ`, `dmean = -r * Σ dz·γ`, `dvariance = -r²/2 * Σ dz·γ·xhat` per slot.
 * x-driven (`x`) or y-driven (`y` with an invertible gamma, In-Place ABN).
 */
export function inferenceGrad(
    inputs: {dy: Tensor; x?: Tensor; y?: Tensor; mean: Tensor; variance: Tensor; gamma: Tensor; beta: Tensor},
    attrs: NormApplyAttrs, gammaShape: number[], betaShape: number[]) {
  const sums = backwardReduce(inputs, attrs);
  return {
    x: () => backwardApply(inputs, attrs, false, 0),
    mean: () => mul(sums.slotSumDzGamma, mul(rsqrt(add(inputs.variance, attrs.epsilon)), -1)),
    variance: () => div(mul(sums.slotSumDzGammaXhat, -0.5), add(inputs.variance, attrs.epsilon)),
    gamma: () => asShape(sums.sumDzXhat, gammaShape),
    beta: () => asShape(sums.sumDz, betaShape),
  };
}

export const applyGradConfig: GradConfig = {
  kernelName: NormsApply,
  inputsToSave: ['x', 'mean', 'variance', 'gamma', 'beta'],
  gradFunc: (dy, saved, attrs) => {
    const [x, mean, variance, gamma, beta] = saved;
    return {...inferenceGrad({dy: dy as Tensor, x, mean, variance, gamma, beta}, attrs as NormsApplyAttrs,
                             gamma.shape, beta.shape)};
  },
};
