/** Registers the gradient of every tfjs-norms kernel (gradients are backend-agnostic). */
import {getGradient, registerGradient, type GradConfig} from '@tensorflow/tfjs-core';
import {abnApplyGradConfig, abnTrainingGradConfig} from './abn_grads.js';
import {applyGradConfig} from './apply_grad.js';
import {momentsGradConfig} from './moments_grad.js';
import {normalizeTrainingGradConfig} from './normalize_training_grad.js';
import {rmsNormGradConfig} from './rms_norm_grad.js';

export const gradConfigs: GradConfig[] = [
  momentsGradConfig, applyGradConfig, normalizeTrainingGradConfig, abnTrainingGradConfig, abnApplyGradConfig,
  rmsNormGradConfig,
];

for (const config of gradConfigs) {
  if (getGradient(config.kernelName) == null) registerGradient(config);
}
