import type {KernelConfig, TensorInfo} from '@tensorflow/tfjs-core';
import {NormsApply, type NormsApplyAttrs, type NormsApplyInputs} from '../../src/kernel_names.js';
import {gpuPathAvailable, type WebGLBackend} from './backend_util.js';
import {applyFallback} from './fallback.js';
import {applyWebGL} from './norm_webgl.js';

/** `y = act(x̂·γ + β)` with given statistics: one elementwise pass over packed texels. */
export const applyConfig: KernelConfig = {
  kernelName: NormsApply,
  backendName: 'webgl',
  kernelFunc: ({inputs, backend, attrs}): TensorInfo => {
    const ins = inputs as NormsApplyInputs;
    const b = backend as WebGLBackend;
    const a = attrs as unknown as NormsApplyAttrs;
    return gpuPathAvailable(ins) ? applyWebGL(b, ins, a) : applyFallback(b, ins, a);
  },
};
