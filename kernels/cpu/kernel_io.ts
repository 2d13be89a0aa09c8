/**
 * How the typed-array kernels (norm_kernels.ts) reach a backend's memory: the cpu backend through
 * the public `KernelBackend` methods (no import of @tensorflow/tfjs-backend-cpu); the wasm
 * backend through views of its heap (kernels/wasm/wasm_io.ts).
 */
import type {KernelBackend, TensorInfo} from '@tensorflow/tfjs-core';
import type {NormLoops} from './loops.js';

export interface Outputs {
  /** The outputs' float32 data, for the kernel to fill. */
  data: Float32Array[];
  /** The outputs as the kernel returns them (call once the data is written). */
  infos(): TensorInfo[];
}

export interface KernelIO {
  /**
   * New float32 outputs of these shapes. Kernels allocate every output before reading any input:
   * on wasm an allocation may grow the heap and detach views taken before it.
   */
  allocate(shapes: number[][]): Outputs;
  /** An input's float32 data (on wasm a view of the heap). */
  read(t: TensorInfo): Float32Array;
  /**
   * The loops to run (kernels/cpu/loops.ts); absent: the JavaScript loops. The wasm backend
   * gives its SIMD build here once it is ready (kernels/wasm/simd_loops.ts).
   */
  loops?: NormLoops;
}

export function cpuIO(backend: KernelBackend): KernelIO {
  return {
    allocate(shapes) {
      const data = shapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1)));
      return {
        data,
        infos: () => data.map((d, i) => ({dataId: backend.write(d, shapes[i], 'float32'), shape: shapes[i], dtype: 'float32'})),
      };
    },
    read: (t) => backend.readSync(t.dataId) as Float32Array,
  };
}
