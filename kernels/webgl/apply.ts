import type {KernelConfig} from '@tensorflow/tfjs-core';
import {NormsApply} from '../../src/kernel_names.js';
import {webglKernel} from './backend_util.js';
import {applyFallback} from './fallback.js';
import {applyWebGL} from './norm_webgl.js';

/** `y = act(x̂·γ + β)` with given statistics: one elementwise pass over packed texels. */
export const applyConfig: KernelConfig = webglKernel(NormsApply, applyWebGL, applyFallback);
