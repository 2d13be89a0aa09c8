import type {KernelConfig} from '@tensorflow/tfjs-core';
import {NormsBackwardApply} from '../../src/kernel_names.js';
import {webglKernel} from './backend_util.js';
import {backwardApplyFallback} from './fallback.js';
import {backwardApplyWebGL} from './norm_webgl.js';

/** `dx = dz·γ·rstd + x̂·k1 + k2`, one elementwise pass (k1, k2 per slot from a small table). */
export const backwardApplyConfig: KernelConfig = webglKernel(NormsBackwardApply, backwardApplyWebGL, backwardApplyFallback);
