import type {KernelConfig, TensorInfo} from '@tensorflow/tfjs-core';
import {
  NormsBackwardApply, type NormsBackwardApplyAttrs, type NormsBackwardApplyInputs,
} from '../../src/kernel_names.js';
import {gpuPathAvailable, type WebGLBackend} from './backend_util.js';
import {backwardApplyFallback} from './fallback.js';
import {backwardApplyWebGL} from './norm_webgl.js';

/** `dx = dz·γ·rstd + x̂·k1 + k2`, one elementwise pass (k1, k2 per slot from a small table). */
export const backwardApplyConfig: KernelConfig = {
  kernelName: NormsBackwardApply,
  backendName: 'webgl',
  kernelFunc: ({inputs, backend, attrs}): TensorInfo => {
    const ins = inputs as NormsBackwardApplyInputs;
    const b = backend as WebGLBackend;
    const a = attrs as unknown as NormsBackwardApplyAttrs;
    return gpuPathAvailable(ins) ? backwardApplyWebGL(b, ins, a) : backwardApplyFallback(b, ins, a);
  },
};
