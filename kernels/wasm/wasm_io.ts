/**
 * The typed-array kernels' IO on tfjs-backend-wasm: inputs are read in place as views of the
 * wasm heap (`typedArrayFromHeap`) and outputs are heap memory from `makeOutput`, so no tensor is
 * copied. Only types come from @tensorflow/tfjs-backend-wasm (an optional peer dependency).
 */
import type {KernelBackend, TensorInfo} from '@tensorflow/tfjs-core';
import type {BackendWasm} from '@tensorflow/tfjs-backend-wasm';
import type {KernelIO} from '../cpu/kernel_io.js';

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
  };
}
