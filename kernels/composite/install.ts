/**
 * Which kernels serve each backend: the fused ones a backend table registered
 * (`registerBackendKernels`), else the composite ones, registered lazily the first time an op
 * runs on a backend (`prepareBackend`), like In-Place ABN's alias kernels. Gradients are keyed
 * by kernel name, so they are the same on every path.
 *
 * With `TFJS_NORMS_COMPOSITE` set, the fused kernels are set aside (unregistered, remembered)
 * and the composite ones take their names; clearing the flag puts the fused ones back.
 */
import {env, getKernel, registerKernel, unregisterKernel, type KernelConfig} from '@tensorflow/tfjs-core';
import {NORMS_COMPOSITE} from '../../src/flags.js';
import {KERNEL_ALIASES, NormsApply} from '../../src/kernel_names.js';
import {compositeKernelConfigs, isCompositeKernel} from './register_all.js';

/** Per backend: the value of the composite flag when its kernels were last arranged. */
const prepared = new Map<string, boolean>();
/** Per backend: fused kernels set aside while the flag is on. */
const setAside = new Map<string, KernelConfig[]>();

function replace(config: KernelConfig): void {
  if (getKernel(config.kernelName, config.backendName) != null) unregisterKernel(config.kernelName, config.backendName);
  registerKernel(config);
}

function hasFusedKernels(backendName: string): boolean {
  const k = getKernel(NormsApply, backendName);
  return k != null && !isCompositeKernel(k);
}

function useComposite(backendName: string): void {
  const aside = setAside.get(backendName) ?? [];
  for (const config of compositeKernelConfigs(backendName)) {
    const current = getKernel(config.kernelName, backendName);
    if (isCompositeKernel(current)) continue;
    if (current != null) aside.push(current);
    replace(config);
  }
  setAside.set(backendName, aside);
}

function useFused(backendName: string): void {
  for (const config of setAside.get(backendName) ?? []) replace(config);
  setAside.delete(backendName);
  const fused = hasFusedKernels(backendName);
  for (const config of compositeKernelConfigs(backendName)) {
    const current = getKernel(config.kernelName, backendName);
    if (fused && isCompositeKernel(current)) unregisterKernel(config.kernelName, backendName);
    if (!fused && current == null) registerKernel(config);
  }
}

/** In-Place ABN's kernels: the same kernel as their target, under their own name. */
function refreshAliases(backendName: string): void {
  for (const [alias, name] of Object.entries(KERNEL_ALIASES)) {
    const target = getKernel(name, backendName);
    const current = getKernel(alias, backendName);
    if (target == null) {
      if (current != null) unregisterKernel(alias, backendName);
    } else if (current == null || current.kernelFunc !== target.kernelFunc) {
      replace({...target, kernelName: alias});
    }
  }
}

/**
 * Arranges the kernels of `backendName` for the current flags: called before every kernel call
 * of an op or gradient (a map lookup once arranged).
 */
export function prepareBackend(backendName: string): void {
  const composite = env().getBool(NORMS_COMPOSITE);
  if (prepared.get(backendName) === composite) return;
  if (composite) useComposite(backendName);
  else useFused(backendName);
  refreshAliases(backendName);
  prepared.set(backendName, composite);
}

/**
 * Registers a backend's fused kernels (each backend's `register_all`), replacing composite ones
 * registered before; idempotent, so loading both the ESM and CommonJS builds does not warn.
 */
export function registerBackendKernels(configs: readonly KernelConfig[]): void {
  for (const config of configs) {
    const current = getKernel(config.kernelName, config.backendName);
    if (current == null || isCompositeKernel(current)) replace(config);
    prepared.delete(config.backendName);
  }
}
