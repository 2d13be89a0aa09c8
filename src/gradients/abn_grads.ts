/**
 * Gradients of In-Place ABN's kernels: the y-driven variants of the training and inference
 * gradients (`x` is never saved). `gamma` is replaced by `invertibleGamma` so that
 * `x̂ = (act⁻¹(y) - beta) / gamma` stays finite.
 */
import type {GradConfig, Tensor} from '@tensorflow/tfjs-core';
import {NormsABNApply, NormsABNTraining, type NormApplyAttrs} from '../kernel_names.js';
import {inferenceGrad} from './apply_grad.js';
import {invertibleGamma, trainingGrad} from './training_grad.js';

export const abnTrainingGradConfig: GradConfig = {
  kernelName: NormsABNTraining,
  inputsToSave: ['gamma', 'beta'],
  // y, variance and meanOffset.
  outputsToSave: [true, false, true, false, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dMean, dVariance] = dys as Tensor[];
    const [gamma, beta, y, variance, mean] = saved;
    const a = attrs as NormApplyAttrs;
    return {...trainingGrad({dy, y, mean, variance, gamma: invertibleGamma(gamma, a.epsilon), beta, dMean, dVariance},
                            a, gamma.shape, beta.shape)};
  },
};

export const abnApplyGradConfig: GradConfig = {
  kernelName: NormsABNApply,
  inputsToSave: ['mean', 'variance', 'gamma', 'beta'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [mean, variance, gamma, beta, y] = saved;
    const a = attrs as NormApplyAttrs;
    return {...inferenceGrad({dy: dy as Tensor, y, mean, variance, gamma: invertibleGamma(gamma, a.epsilon), beta},
                             a, gamma.shape, beta.shape)};
  },
};
