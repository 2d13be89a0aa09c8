/**
 * Reading inputs and writing outputs of cpu kernels through the public `KernelBackend`
 * methods, so no import of @tensorflow/tfjs-backend-cpu is needed.
 */
import type {DataType, KernelBackend, NamedAttrMap, TensorInfo} from '@tensorflow/tfjs-core';
import type {NormApplyAttrs} from '../../src/kernel_names.js';
import {normView} from '../../src/norm_view.js';
import {slotMeans, type ApplyParams} from './norm_loops.js';

export function values(backend: KernelBackend, t: TensorInfo): Float32Array {
  return backend.readSync(t.dataId) as Float32Array;
}

export function optionalValues(backend: KernelBackend, t: TensorInfo | undefined): Float32Array | null {
  return t === undefined ? null : values(backend, t);
}

export function output(backend: KernelBackend, data: Float32Array, shape: number[],
                       dtype: DataType = 'float32'): TensorInfo {
  return {dataId: backend.write(data, shape, dtype), shape, dtype};
}

/** The parameters of the elementwise loops from a kernel's inputs and attributes. */
export function applyParams(
    backend: KernelBackend,
    inputs: {x: TensorInfo; mean: TensorInfo; variance: TensorInfo; gamma?: TensorInfo; beta?: TensorInfo;
             shift?: TensorInfo},
    attrs: NamedAttrMap): ApplyParams {
  const a = attrs as NormApplyAttrs;
  return {
    v: normView(inputs.x.shape, a),
    mean: slotMeans(values(backend, inputs.mean), optionalValues(backend, inputs.shift)),
    variance: values(backend, inputs.variance),
    gamma: optionalValues(backend, inputs.gamma),
    beta: optionalValues(backend, inputs.beta),
    epsilon: a.epsilon,
    activation: a.activation,
    alpha: a.alpha,
  };
}
