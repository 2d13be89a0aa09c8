import type {GradConfig, Tensor} from '@tensorflow/tfjs-core';
import {NormsNormalizeTraining, type NormsNormalizeTrainingAttrs} from '../kernel_names.js';
import {trainingGrad} from './training_grad.js';

/** Training mode, x-driven: the batch statistics depend on `x`, and `mean`/`variance` are outputs too. */
export const normalizeTrainingGradConfig: GradConfig = {
  kernelName: NormsNormalizeTraining,
  inputsToSave: ['x', 'gamma', 'beta'],
  // variance, shift and meanOffset: the exact mean is shift + meanOffset (see kernel_names.ts).
  outputsToSave: [false, false, true, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dMean, dVariance] = dys as Tensor[];
    const [x, gamma, beta, variance, shift, mean] = saved;
    return {...trainingGrad({dy, x, shift, mean, variance, gamma, beta, dMean, dVariance},
                            attrs as NormsNormalizeTrainingAttrs, gamma.shape, beta.shape)};
  },
};
