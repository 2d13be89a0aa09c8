import type {KernelConfig, TensorInfo} from '@tensorflow/tfjs-core';
import {NormsMoments, type NormApplyAttrs, type NormsMomentsInputs} from '../../src/kernel_names.js';
import {gpuPathAvailable, type WebGLBackend} from './backend_util.js';
import {momentsFallback} from './fallback.js';
import {momentsWebGL} from './norm_webgl.js';

/** Mean, biased variance, shift and mean offset per slot: stage-1 partials, Chan merge. */
export const momentsConfig: KernelConfig = {
  kernelName: NormsMoments,
  backendName: 'webgl',
  kernelFunc: ({inputs, backend, attrs}): TensorInfo[] => {
    const {x} = inputs as NormsMomentsInputs;
    const b = backend as WebGLBackend;
    const a = attrs as unknown as NormApplyAttrs;
    return gpuPathAvailable({x}) ? momentsWebGL(b, x, a) : momentsFallback(b, x, a);
  },
};
