/**
 * The one way ops and gradients run a kernel of ours: the active backend's kernels are arranged
 * first (fused ones where registered, else the composite of tfjs kernels; see
 * kernels/composite/install.ts), so every op works on every backend.
 */
import {engine, getKernel, type NamedAttrMap, type NamedTensorMap, type Tensor} from '@tensorflow/tfjs-core';
import {prepareBackend} from '../kernels/composite/install.js';

export function runKernel(name: string, inputs: NamedTensorMap, attrs: object = {}): Tensor | Tensor[] {
  prepareBackend(engine().backendName);
  return engine().runKernel(name, inputs, attrs as NamedAttrMap) as Tensor | Tensor[];
}

/** Whether the active backend has kernel `name` of ours (an optional one: NormsBackwardTraining). */
export function hasKernel(name: string): boolean {
  const backendName = engine().backendName;
  prepareBackend(backendName);
  return getKernel(name, backendName) != null;
}
