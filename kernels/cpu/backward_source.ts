import type {KernelBackend, TensorInfo} from '@tensorflow/tfjs-core';
import {values} from './cpu_io.js';
import type {BackwardSource} from './norm_loops.js';

/** `x`, or the forward output `y` when In-Place ABN gave that instead. */
export function backwardSource(backend: KernelBackend, inputs: {x?: TensorInfo; y?: TensorInfo}):
    {source: BackwardSource; info: TensorInfo} {
  const info = inputs.x ?? inputs.y;
  if (info === undefined) throw new Error('tfjs-norms backward kernels need x or y');
  return {source: {data: values(backend, info), fromOutput: inputs.x === undefined}, info};
}
