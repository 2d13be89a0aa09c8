import type {GradConfig, Tensor} from '@tensorflow/tfjs-core';
import {NormsMoments, type NormsMomentsAttrs} from '../kernel_names.js';
import {normView} from '../norm_view.js';
import {backwardApply} from './backward.js';

/**
 * `dx = dmean / count + dvariance * 2 (x - mean) / count`, the backward apply with no `dy`
 * (its `xhat / rstd` is `x - mean` for any epsilon; 1 keeps rstd finite on constant slots).
 */
export const momentsGradConfig: GradConfig = {
  kernelName: NormsMoments,
  inputsToSave: ['x'],
  outputsToSave: [false, true, true, true],
  gradFunc: (dys, saved, attrs) => {
    const [dMean, dVariance] = dys as Tensor[];
    const [x, variance, shift, mean] = saved;
    const a = {...(attrs as NormsMomentsAttrs), epsilon: 1, activation: 'linear' as const, alpha: 0};
    return {
      x: () => backwardApply({x, mean, shift, variance, dMean, dVariance}, a, true, normView(x.shape, a).count),
    };
  },
};
