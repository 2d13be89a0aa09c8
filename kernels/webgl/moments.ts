import type {KernelConfig} from '@tensorflow/tfjs-core';
import {NormsMoments} from '../../src/kernel_names.js';
import {webglKernel} from './backend_util.js';
import {momentsFallback} from './fallback.js';
import {momentsWebGL} from './norm_webgl.js';

/** Mean, biased variance, shift and mean offset per slot: stage-1 partials, Chan merge. */
export const momentsConfig: KernelConfig = webglKernel(NormsMoments, momentsWebGL, momentsFallback);
