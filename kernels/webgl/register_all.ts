/**
 * Every tfjs-norms kernel for the `webgl` backend, one line each (as tfjs's
 * register_all_kernels.ts): the GLSL programs of norm_webgl.ts, falling back to the composite
 * kernels (fallback.ts) where the backend cannot render float32.
 */
import type {KernelConfig} from '@tensorflow/tfjs-core';
import {
  NormsApply, NormsBackwardApply, NormsBackwardReduce, NormsBackwardTraining, NormsMoments, NormsNormalizeTraining,
  NormsRMSNorm, NormsRMSNormGrad,
} from '../../src/kernel_names.js';
import {registerBackendKernels} from '../composite/install.js';
import {webglKernel} from './backend_util.js';
import {
  applyFallback, backwardApplyFallback, backwardReduceFallback, backwardTrainingFallback, momentsFallback,
  normalizeTrainingFallback, rmsNormFallback, rmsNormGradFallback,
} from './fallback.js';
import {
  applyWebGL, backwardApplyWebGL, backwardReduceWebGL, backwardTrainingWebGL, momentsWebGL, normalizeTrainingWebGL,
} from './norm_webgl.js';
import {rmsNormGradWebGL, rmsNormWebGL} from './rms_norm.js';

export const webglKernelConfigs: KernelConfig[] = [
  // Mean, biased variance, shift and mean offset per slot: stage-1 partials, Chan merge.
  webglKernel(NormsMoments, momentsWebGL, momentsFallback),
  // `y = act(x̂·γ + β)` with given statistics: one elementwise pass over packed texels.
  webglKernel(NormsApply, applyWebGL, applyFallback),
  // Batch statistics, then the apply pass: x is read twice and y written once.
  webglKernel(NormsNormalizeTraining, normalizeTrainingWebGL, normalizeTrainingFallback),
  // Σdz, Σdz·x̂ per channel and Σdz·γ, Σdz·γ·x̂ per slot, from one read of dy and x (or y).
  webglKernel(NormsBackwardReduce, backwardReduceWebGL, backwardReduceFallback),
  // `dx = dz·γ·rstd + x̂·k1 + k2`, one elementwise pass (k1, k2 per slot from a small table).
  webglKernel(NormsBackwardApply, backwardApplyWebGL, backwardApplyFallback),
  // The training backward in one kernel: the reduction, the slot sums folded into the slot table
  // on the GPU, and the apply pass, without handing four small tensors back to the engine.
  webglKernel(NormsBackwardTraining, backwardTrainingWebGL, backwardTrainingFallback),
  // RMSNorm: per-row invRms, then `y = x·invRms·γ`, on packed texels of the [rows, D] view.
  webglKernel(NormsRMSNorm, rmsNormWebGL, rmsNormFallback),
  // Its backward: per-row k, the dx pass, and dγ over blocks of rows in two passes.
  webglKernel(NormsRMSNormGrad, rmsNormGradWebGL, rmsNormGradFallback),
];

registerBackendKernels(webglKernelConfigs);
