import type {KernelConfig, TensorInfo} from '@tensorflow/tfjs-core';
import {
  NormsBackwardTraining, type NormsBackwardTrainingAttrs, type NormsBackwardTrainingInputs,
} from '../../src/kernel_names.js';
import {gpuPathAvailable, type WebGLBackend} from './backend_util.js';
import {backwardTrainingFallback} from './fallback.js';
import {backwardTrainingWebGL} from './norm_webgl.js';

/**
 * The training backward in one kernel: the reduction, the slot sums folded into the slot table
 * on the GPU, and the apply pass, without handing four small tensors back to the engine.
 */
export const backwardTrainingConfig: KernelConfig = {
  kernelName: NormsBackwardTraining,
  backendName: 'webgl',
  kernelFunc: ({inputs, backend, attrs}): TensorInfo[] => {
    const ins = inputs as NormsBackwardTrainingInputs;
    const b = backend as WebGLBackend;
    const a = attrs as unknown as NormsBackwardTrainingAttrs;
    return gpuPathAvailable(ins) ? backwardTrainingWebGL(b, ins, a) : backwardTrainingFallback(b, ins, a);
  },
};
