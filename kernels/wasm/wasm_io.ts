/**
 * The typed-array kernels' IO on tfjs-backend-wasm: inputs are read in place as views of the
 * wasm heap (`typedArrayFromHeap`) and outputs are heap memory from `makeOutput`, so no tensor is
 * copied. The loops are the WebAssembly SIMD build (simd_loops.ts) once it is loaded on this
 * backend (simd_module.ts) and `TFJS_NORMS_WASM_SIMD` is on; the JavaScript loops until then.
 * Only types come from @tensorflow/tfjs-backend-wasm (an optional peer dependency).
 */
import {env, type KernelBackend, type TensorInfo} from '@tensorflow/tfjs-core';
import type {BackendWasm} from '@tensorflow/tfjs-backend-wasm';
import {NORMS_WASM_SIMD} from '../../src/flags.js';
import type {KernelIO} from '../cpu/kernel_io.js';
import type {NormLoops} from '../cpu/loops.js';
import {simdInstance, type SimdInstance} from './simd_module.js';
import {simdLoops} from './simd_loops.js';

const loopsOf = new WeakMap<SimdInstance, NormLoops>();

function simd(backend: KernelBackend): NormLoops | undefined {
  if (!env().getBool(NORMS_WASM_SIMD)) return undefined;
  const instance = simdInstance(backend);
  if (instance === null) return undefined;
  let loops = loopsOf.get(instance);
  if (loops === undefined) loopsOf.set(instance, loops = simdLoops(instance));
  return loops;
}

export function wasmIO(kernelBackend: KernelBackend): KernelIO {
  const backend = kernelBackend as BackendWasm;
  return {
    allocate(shapes) {
      const infos = shapes.map((s) => backend.makeOutput(s, 'float32'));
      // Views only once every output exists: an allocation may grow (and detach) the heap.
      const data = infos.map((t) => backend.typedArrayFromHeap(t) as Float32Array);
      return {data, infos: () => infos};
    },
    read(t: TensorInfo) {
      if (t.dtype !== 'float32') throw new Error(`tfjs-norms wasm kernels take float32 tensors; got ${t.dtype}`);
      return backend.typedArrayFromHeap(t) as Float32Array;
    },
    loops: simd(kernelBackend),
  };
}
