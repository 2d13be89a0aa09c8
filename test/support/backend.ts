/**
 * The backend the op suites run on. Plain `cpu` by default; the jest projects of jest.config.js
 * run the same suites elsewhere by setting the global `TFJS_NORMS_TEST`:
 * - `{backend: 'wasm', kernels: 'fused'}`: tfjs-backend-wasm with `tfjs-norms/wasm`'s kernels;
 * - `{backend: 'wasm', kernels: 'composite'}`: tfjs-backend-wasm without them (the composite path);
 * - `{backend: 'cpu', kernels: 'composite'}`: cpu with `TFJS_NORMS_COMPOSITE` set (kernels forced off).
 */
import type * as tfType from '@tensorflow/tfjs-core';
import {prepareBackend} from '../../kernels/composite/install.js';
import {isCompositeKernel} from '../../kernels/composite/register_all.js';
import {NORMS_COMPOSITE} from '../../src/flags.js';
import {NormsApply} from '../../src/kernel_names.js';

export interface TestBackend {
  backend: 'cpu' | 'wasm';
  kernels: 'fused' | 'composite';
}

export function testBackend(): TestBackend {
  return (globalThis as {TFJS_NORMS_TEST?: TestBackend}).TFJS_NORMS_TEST ?? {backend: 'cpu', kernels: 'fused'};
}

/** Selects the suite's backend (call in `beforeAll`); fails when it cannot start. */
export async function useTestBackend(tf: typeof tfType): Promise<string> {
  const {backend, kernels} = testBackend();
  if (backend === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    if (kernels === 'fused') await import('../../src/wasm.js');
  }
  tf.env().set(NORMS_COMPOSITE, backend === 'cpu' && kernels === 'composite');
  if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend) {
    throw new Error(`the ${backend} backend did not start (active: ${tf.getBackend()})`);
  }
  // The kernels the ops will run are the ones this project is about.
  prepareBackend(backend);
  if (backend === 'wasm' && kernels === 'fused') {
    // The wasm kernels' loops are the SIMD build once it is loaded: the suites run on it.
    const {wasmSimdReady} = await import('../../src/wasm.js');
    if (!(await wasmSimdReady())) throw new Error('wasm: the SIMD loops did not load');
  }
  if (isCompositeKernel(tf.getKernel(NormsApply, backend)) !== (kernels === 'composite')) {
    throw new Error(`${backend}: expected the ${kernels} kernels to serve the ops`);
  }
  return backend;
}
