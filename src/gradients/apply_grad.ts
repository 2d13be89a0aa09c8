import {add, div, mul, reshape, rsqrt, type GradConfig, type Tensor} from '@tensorflow/tfjs-core';
import {NormsApply, type NormsApplyAttrs} from '../kernel_names.js';
import {backwardApply, backwardReduce} from './backward.js';

/**
 * Inference mode (given statistics). With `r = (variance + eps)^-1/2`:
 * `dmean = -r * Σ dz·γ`, `dvariance = -r²/2 * Σ dz·γ·xhat` per slot.
 */
export const applyGradConfig: GradConfig = {
  kernelName: NormsApply,
  inputsToSave: ['x', 'mean', 'variance', 'gamma', 'beta'],
  gradFunc: (dy, saved, attrs) => {
    const [x, mean, variance, gamma, beta] = saved;
    const a = attrs as NormsApplyAttrs;
    const sums = backwardReduce({dy: dy as Tensor, x, mean, variance, gamma, beta}, a);
    return {
      x: () => backwardApply({x, mean, variance, dy: dy as Tensor, gamma, beta}, a, false, 0),
      mean: () => mul(sums.slotSumDzGamma, mul(rsqrt(add(variance, a.epsilon)), -1)),
      variance: () => div(mul(sums.slotSumDzGammaXhat, -0.5), add(variance, a.epsilon)),
      gamma: () => reshape(sums.sumDzXhat, gamma.shape),
      beta: () => reshape(sums.sumDz, beta.shape),
    };
  },
};
