/**
 * Shared steps of every gradient: the one-pass backward reduction and the backward apply,
 * both run as kernels so each backend supplies its own fused version.
 */
import type {NamedTensorMap, Tensor} from '@tensorflow/tfjs-core';
import {
  NormsBackwardApply, type NormsBackwardApplyAttrs, NormsBackwardReduce, type NormApplyAttrs,
} from '../kernel_names.js';
import {runKernel} from '../run_kernel.js';

/** Kernel inputs without the absent ones (the engine expects no undefined entries). */
export function defined(inputs: object): NamedTensorMap {
  const named: NamedTensorMap = {};
  for (const [k, t] of Object.entries(inputs)) if (t !== undefined) named[k] = t as Tensor;
  return named;
}

export interface BackwardSums {
  sumDz: Tensor;
  sumDzXhat: Tensor;
  slotSumDzGamma: Tensor;
  slotSumDzGammaXhat: Tensor;
}

export function backwardReduce(
    inputs: {dy: Tensor; x?: Tensor; y?: Tensor; mean: Tensor; variance: Tensor; gamma: Tensor; beta: Tensor;
             shift?: Tensor},
    attrs: NormApplyAttrs): BackwardSums {
  const [sumDz, sumDzXhat, slotSumDzGamma, slotSumDzGammaXhat] = runKernel(
      NormsBackwardReduce, defined(inputs), attrs) as Tensor[];
  return {sumDz, sumDzXhat, slotSumDzGamma, slotSumDzGammaXhat};
}

export function backwardApply(
    inputs: {x?: Tensor; y?: Tensor; mean: Tensor; variance: Tensor; shift?: Tensor; dy?: Tensor; gamma?: Tensor; beta?: Tensor;
             slotSumDzGamma?: Tensor; slotSumDzGammaXhat?: Tensor; dMean?: Tensor; dVariance?: Tensor},
    attrs: NormApplyAttrs, training: boolean, count: number): Tensor {
  const a: NormsBackwardApplyAttrs = {...attrs, training, count};
  return runKernel(NormsBackwardApply, defined(inputs), a) as Tensor;
}
