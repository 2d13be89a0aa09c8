import type {KernelConfig} from '@tensorflow/tfjs-core';
import {NormsNormalizeTraining} from '../../src/kernel_names.js';
import {webglKernel} from './backend_util.js';
import {normalizeTrainingFallback} from './fallback.js';
import {normalizeTrainingWebGL} from './norm_webgl.js';

/** Batch statistics, then the apply pass: x is read twice and y written once. */
export const normalizeTrainingConfig: KernelConfig = webglKernel(NormsNormalizeTraining, normalizeTrainingWebGL, normalizeTrainingFallback);
