import type {KernelConfig} from '@tensorflow/tfjs-core';
import {NormsBackwardReduce} from '../../src/kernel_names.js';
import {webglKernel} from './backend_util.js';
import {backwardReduceFallback} from './fallback.js';
import {backwardReduceWebGL} from './norm_webgl.js';

/** Σdz, Σdz·x̂ per channel and Σdz·γ, Σdz·γ·x̂ per slot, from one read of dy and x (or y). */
export const backwardReduceConfig: KernelConfig = webglKernel(NormsBackwardReduce, backwardReduceWebGL, backwardReduceFallback);
