/**
 * Registers every tfjs-norms kernel for the `wasm` backend: the shared typed-array kernels
 * (kernels/cpu/norm_kernels.ts) on views of the wasm heap, with the WebAssembly SIMD build of
 * their loops (simd_module.ts: compiled now, asynchronously; loaded on a backend's memory when
 * our kernels first run there or by `wasmSimdReady`).
 */
import {findBackend, type KernelConfig} from '@tensorflow/tfjs-core';
import {normKernelConfigs} from '../cpu/norm_kernels.js';
import {registerBackendKernels} from '../composite/install.js';
import {compileSimd, loadSimd} from './simd_module.js';
import {wasmIO} from './wasm_io.js';

export const wasmKernelConfigs: KernelConfig[] = normKernelConfigs('wasm', wasmIO);

registerBackendKernels(wasmKernelConfigs);
void compileSimd();

/**
 * Resolves once the SIMD loops are loaded on the (initialized) `wasm` backend: true, or false
 * where they cannot run there (the kernels then keep the JavaScript loops) or the backend has
 * not been initialized (`await tf.setBackend('wasm')` first).
 */
export async function wasmSimdReady(): Promise<boolean> {
  const backend = findBackend('wasm');
  return backend !== null && (await loadSimd(backend)) !== null;
}
