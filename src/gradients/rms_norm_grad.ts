import type {GradConfig, Tensor} from '@tensorflow/tfjs-core';
import {NormsRMSNorm, NormsRMSNormGrad} from '../kernel_names.js';
import {runKernel} from '../run_kernel.js';

/** RMSNorm: one backward kernel from the saved `x`, `gamma` and per-row `invRms`. */
export const rmsNormGradConfig: GradConfig = {
  kernelName: NormsRMSNorm,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true],
  gradFunc: (dys, saved, attrs) => {
    // Only y is exposed by the op; invRms is an internal output (its gradient is ignored).
    const dy = (Array.isArray(dys) ? dys[0] : dys) as Tensor;
    const [x, gamma, invRms] = saved;
    const [dx, dgamma] = runKernel(NormsRMSNormGrad, {dy, x, invRms, gamma}, attrs) as Tensor[];
    return {x: () => dx, gamma: () => dgamma};
  },
};
