import type {KernelConfig, TensorInfo} from '@tensorflow/tfjs-core';
import {
  NormsBackwardReduce, type NormsBackwardReduceAttrs, type NormsBackwardReduceInputs,
} from '../../src/kernel_names.js';
import {gpuPathAvailable, type WebGLBackend} from './backend_util.js';
import {backwardReduceFallback} from './fallback.js';
import {backwardReduceWebGL} from './norm_webgl.js';

/** Σdz, Σdz·x̂ per channel and Σdz·γ, Σdz·γ·x̂ per slot, from one read of dy and x (or y). */
export const backwardReduceConfig: KernelConfig = {
  kernelName: NormsBackwardReduce,
  backendName: 'webgl',
  kernelFunc: ({inputs, backend, attrs}): TensorInfo[] => {
    const ins = inputs as NormsBackwardReduceInputs;
    const b = backend as WebGLBackend;
    const a = attrs as unknown as NormsBackwardReduceAttrs;
    return gpuPathAvailable(ins) ? backwardReduceWebGL(b, ins, a) : backwardReduceFallback(b, ins, a);
  },
};
