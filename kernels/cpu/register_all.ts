/** Registers every tfjs-norms kernel for the `cpu` backend: the loops of norm_loops.ts on its arrays. */
import type {KernelConfig} from '@tensorflow/tfjs-core';
import {registerBackendKernels} from '../composite/install.js';
import {cpuIO} from './kernel_io.js';
import {normKernelConfigs} from './norm_kernels.js';

export const cpuKernelConfigs: KernelConfig[] = normKernelConfigs('cpu', cpuIO);

registerBackendKernels(cpuKernelConfigs);
