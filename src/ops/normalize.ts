/**
 * The one path every op takes into the kernels: fill in absent gamma/beta, then run the
 * fused training kernel (batch statistics) or the apply kernel (given statistics).
 */
import {fill, type NamedTensorMap, type Tensor, type Tensor1D} from '@tensorflow/tfjs-core';
import {
  NormsApply, type NormApplyAttrs, NormsNormalizeTraining, type NormViewAttrs,
} from '../kernel_names.js';
import {normView} from '../norm_view.js';
import {runKernel} from '../run_kernel.js';
import type {DataFormat} from './types.js';

export interface NormalizeResult {
  y: Tensor;
  mean: Tensor1D;
  variance: Tensor1D;
}

/** The kernel view of a channel-wise norm (batch, group, instance) on `x`. */
export function channelView(rank: number, dataFormat: DataFormat, groups: number,
                            perSample: boolean, channels: number): NormViewAttrs {
  return {
    layout: dataFormat === 'NCHW' && rank > 2 ? 'NCS' : 'NSC',
    batchAxes: 1, channelAxes: 1, groups: groups === 0 ? channels : groups, perSample,
  };
}

export function normalize(
    x: Tensor, attrs: NormApplyAttrs, paramShape: number[],
    params: {gamma?: Tensor; beta?: Tensor; training: boolean; mean?: Tensor; variance?: Tensor}):
    NormalizeResult {
  // Absent affine parameters become constants, so every backend runs one program per kernel
  // and the gradient configs can save them unconditionally.
  const gamma = params.gamma ?? fill(paramShape, 1);
  const beta = params.beta ?? fill(paramShape, 0);
  if (params.training) {
    const [y, mean, variance, shift, meanOffset] = runKernel(
        NormsNormalizeTraining, {x, gamma, beta}, attrs) as Tensor[];
    shift.dispose();
    meanOffset.dispose();
    return {y, mean: mean as Tensor1D, variance: variance as Tensor1D};
  }
  const inputs: NamedTensorMap = {x, mean: params.mean!, variance: params.variance!, gamma, beta};
  const y = runKernel(NormsApply, inputs, attrs) as Tensor;
  // The caller's own tensors, not copies: nothing but y to dispose. tf.op's scope only disposes
  // tensors made inside it, so returning an input is safe.
  return {y, mean: params.mean as Tensor1D, variance: params.variance as Tensor1D};
}

/** Elements per statistics slot for `x` under `attrs`. */
export function slotCount(x: Tensor, attrs: NormViewAttrs): number {
  return normView(x.shape, attrs).count;
}
