import type {KernelConfig} from '@tensorflow/tfjs-core';
import {NormsBackwardTraining} from '../../src/kernel_names.js';
import {webglKernel} from './backend_util.js';
import {backwardTrainingFallback} from './fallback.js';
import {backwardTrainingWebGL} from './norm_webgl.js';

/**
 * The training backward in one kernel: the reduction, the slot sums folded into the slot table
 * on the GPU, and the apply pass, without handing four small tensors back to the engine.
 */
export const backwardTrainingConfig: KernelConfig = webglKernel(NormsBackwardTraining, backwardTrainingWebGL, backwardTrainingFallback);
