/**
 * Shared steps of every gradient: the one-pass backward reduction and the backward apply,
 * both run as kernels so each backend supplies its own fused version.
 */
import {engine, type NamedTensorMap, type Tensor} from '@tensorflow/tfjs-core';
import {
  NormsBackwardApply, type NormsBackwardApplyAttrs, NormsBackwardReduce, type NormApplyAttrs,
} from '../kernel_names.js';

export interface BackwardSums {
  sumDz: Tensor;
  sumDzXhat: Tensor;
  slotSumDzGamma: Tensor;
  slotSumDzGammaXhat: Tensor;
}

export function backwardReduce(
    inputs: {dy: Tensor; x: Tensor; mean: Tensor; variance: Tensor; gamma: Tensor; beta: Tensor},
    attrs: NormApplyAttrs): BackwardSums {
  const [sumDz, sumDzXhat, slotSumDzGamma, slotSumDzGammaXhat] = engine().runKernel(
      NormsBackwardReduce, inputs as unknown as NamedTensorMap, attrs) as Tensor[];
  return {sumDz, sumDzXhat, slotSumDzGamma, slotSumDzGammaXhat};
}

export function backwardApply(
    inputs: {x: Tensor; mean: Tensor; variance: Tensor; dy?: Tensor; gamma?: Tensor; beta?: Tensor;
             slotSumDzGamma?: Tensor; slotSumDzGammaXhat?: Tensor; dMean?: Tensor; dVariance?: Tensor},
    attrs: NormApplyAttrs, training: boolean, count: number): Tensor {
  const named: NamedTensorMap = {};
  for (const [k, t] of Object.entries(inputs)) if (t !== undefined) named[k] = t;
  const a: NormsBackwardApplyAttrs = {...attrs, training, count};
  return engine().runKernel(NormsBackwardApply, named, a) as Tensor;
}
