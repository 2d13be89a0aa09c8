import {reshape, type GradConfig, type NamedTensorMap, type Tensor} from '@tensorflow/tfjs-core';
import {NormsBackwardTraining, NormsNormalizeTraining, type NormsNormalizeTrainingAttrs} from '../kernel_names.js';
import {normView} from '../norm_view.js';
import {hasKernel, runKernel} from '../run_kernel.js';
import {backwardApply, backwardReduce} from './backward.js';

/**
 * Training mode: the batch statistics depend on `x`, and `mean`/`variance` are outputs too.
 * Uses the backend's fused `NormsBackwardTraining` when it has one, else reduce then apply.
 */
export const normalizeTrainingGradConfig: GradConfig = {
  kernelName: NormsNormalizeTraining,
  inputsToSave: ['x', 'gamma', 'beta'],
  // variance, shift and meanOffset: the exact mean is shift + meanOffset (see kernel_names.ts).
  outputsToSave: [false, false, true, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dMean, dVariance] = dys as Tensor[];
    const [x, gamma, beta, variance, shift, mean] = saved;
    const a = attrs as NormsNormalizeTrainingAttrs;
    if (hasKernel(NormsBackwardTraining)) {
      const inputs: NamedTensorMap = {dy, x, mean, variance, gamma, beta, shift, dMean, dVariance};
      const [dx, sumDz, sumDzXhat] = runKernel(NormsBackwardTraining, inputs, a) as Tensor[];
      return {x: () => dx, gamma: () => reshape(sumDzXhat, gamma.shape), beta: () => reshape(sumDz, beta.shape)};
    }
    const sums = backwardReduce({dy, x, mean, variance, gamma, beta, shift}, a);
    const count = normView(x.shape, a).count;
    return {
      x: () => backwardApply({
        x, mean, shift, variance, dy, gamma, beta, slotSumDzGamma: sums.slotSumDzGamma,
        slotSumDzGammaXhat: sums.slotSumDzGammaXhat, dMean, dVariance,
      }, a, true, count),
      gamma: () => reshape(sums.sumDzXhat, gamma.shape),
      beta: () => reshape(sums.sumDz, beta.shape),
    };
  },
};
