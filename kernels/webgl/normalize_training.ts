import type {KernelConfig, TensorInfo} from '@tensorflow/tfjs-core';
import {
  NormsNormalizeTraining, type NormsNormalizeTrainingAttrs, type NormsNormalizeTrainingInputs,
} from '../../src/kernel_names.js';
import {gpuPathAvailable, type WebGLBackend} from './backend_util.js';
import {normalizeTrainingFallback} from './fallback.js';
import {normalizeTrainingWebGL} from './norm_webgl.js';

/** Batch statistics, then the apply pass: x is read twice and y written once. */
export const normalizeTrainingConfig: KernelConfig = {
  kernelName: NormsNormalizeTraining,
  backendName: 'webgl',
  kernelFunc: ({inputs, backend, attrs}): TensorInfo[] => {
    const {x, gamma, beta} = inputs as NormsNormalizeTrainingInputs;
    const b = backend as WebGLBackend;
    const a = attrs as unknown as NormsNormalizeTrainingAttrs;
    return gpuPathAvailable({x}) ? normalizeTrainingWebGL(b, x, gamma, beta, a) : normalizeTrainingFallback(b, x, gamma, beta, a);
  },
};
