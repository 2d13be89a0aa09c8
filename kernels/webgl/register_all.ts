/** Registers every tfjs-norms kernel for the `webgl` backend. */
import type {KernelConfig} from '@tensorflow/tfjs-core';
import {registerBackendKernels} from '../composite/install.js';
import {applyConfig} from './apply.js';
import {backwardApplyConfig} from './backward_apply.js';
import {backwardReduceConfig} from './backward_reduce.js';
import {backwardTrainingConfig} from './backward_training.js';
import {momentsConfig} from './moments.js';
import {normalizeTrainingConfig} from './normalize_training.js';

export const webglKernelConfigs: KernelConfig[] = [
  momentsConfig, applyConfig, normalizeTrainingConfig, backwardReduceConfig, backwardApplyConfig,
  backwardTrainingConfig,
];

registerBackendKernels(webglKernelConfigs);
