/**
 * Kernels that are another kernel under a second name (with a gradient of their own): registered
 * for a backend the first time an op needs them there, from that backend's original kernel.
 */
import {getKernel, registerKernel} from '@tensorflow/tfjs-core';
import {KERNEL_ALIASES} from './kernel_names.js';

export function ensureKernelAlias(alias: string, backendName: string): void {
  if (getKernel(alias, backendName) != null) return;
  const target = getKernel(KERNEL_ALIASES[alias], backendName);
  // Without the original the engine's own "kernel not registered" error follows.
  if (target != null) registerKernel({...target, kernelName: alias});
}
