/**
 * Registers every tfjs-norms kernel for the `tensorflow` backend (`@tensorflow/tfjs-node` and
 * `@tensorflow/tfjs-node-gpu`, which share the backend name and this JavaScript).
 */
import type {KernelConfig} from '@tensorflow/tfjs-core';
import {registerBackendKernels} from '../composite/install.js';
import {applyConfig} from './apply.js';
import {backwardApplyConfig} from './backward_apply.js';
import {backwardReduceConfig} from './backward_reduce.js';
import {backwardTrainingConfig} from './backward_training.js';
import {momentsConfig} from './moments.js';
import {normalizeTrainingConfig} from './normalize_training.js';

export const tensorflowKernelConfigs: KernelConfig[] = [
  momentsConfig, applyConfig, normalizeTrainingConfig, backwardReduceConfig, backwardApplyConfig,
  backwardTrainingConfig,
];

registerBackendKernels(tensorflowKernelConfigs);
