/**
 * Registers every tfjs-norms kernel for the `tensorflow` backend (`@tensorflow/tfjs-node` and
 * `@tensorflow/tfjs-node-gpu`, which share the backend name and this JavaScript); the kernels
 * are in kernels.ts.
 */
import type {KernelConfig} from '@tensorflow/tfjs-core';
import {registerBackendKernels} from '../composite/install.js';
import {
  applyConfig, backwardApplyConfig, backwardReduceConfig, backwardTrainingConfig, momentsConfig, normalizeTrainingConfig,
} from './kernels.js';
import {rmsNormConfig, rmsNormGradConfig} from './rms_norm.js';

export const tensorflowKernelConfigs: KernelConfig[] = [
  momentsConfig, applyConfig, normalizeTrainingConfig, backwardReduceConfig, backwardApplyConfig,
  backwardTrainingConfig,
  rmsNormConfig, rmsNormGradConfig,
];

registerBackendKernels(tensorflowKernelConfigs);
