/**
 * Registers every tfjs-norms kernel for the `wasm` backend: the same loops as the cpu kernels
 * (kernels/cpu/norm_loops.ts), run on views of the wasm heap.
 */
import type {KernelConfig} from '@tensorflow/tfjs-core';
import {normKernelConfigs} from '../cpu/norm_kernels.js';
import {registerBackendKernels} from '../composite/install.js';
import {wasmIO} from './wasm_io.js';

export const wasmKernelConfigs: KernelConfig[] = normKernelConfigs('wasm', wasmIO);

registerBackendKernels(wasmKernelConfigs);
