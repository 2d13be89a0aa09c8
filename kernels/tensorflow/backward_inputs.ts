import type {TensorInfo} from '@tensorflow/tfjs-core';
import type {BackwardInputs} from './norm_graph.js';
import type {Eager} from './tf_exec.js';

/** The input the backward kernels were given (`x`, or `y` for In-Place ABN) and host statistics. */
export function backwardInputs(
    e: Eager,
    ins: {dy?: TensorInfo; x?: TensorInfo; y?: TensorInfo; mean: TensorInfo; variance: TensorInfo; shift?: TensorInfo}):
    {source: TensorInfo; bwd: BackwardInputs} {
  const source = ins.x ?? ins.y;
  if (source === undefined) throw new Error('tfjs-norms backward kernels need x or y');
  return {
    source,
    bwd: {
      dy: ins.dy, x: ins.x, y: ins.x === undefined ? ins.y : undefined,
      mean: e.readInput(ins.mean), variance: e.readInput(ins.variance),
      shift: ins.shift ? e.readInput(ins.shift) : null,
    },
  };
}

export function optionalValues(e: Eager, t: TensorInfo | undefined): Float32Array | null {
  return t === undefined ? null : e.readInput(t);
}
