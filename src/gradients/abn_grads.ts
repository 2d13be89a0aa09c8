/**
 * Gradients of In-Place ABN's kernels, computed from the output `y` (the backward kernels' "from
 * the output" variant): `x` is never saved. `gamma` is replaced by
 * `sign(gamma) * max(|gamma|, epsilon)` so that `x̂ = (act⁻¹(y) - beta) / gamma` stays finite.
 */
import {
  abs, add, div, equal, maximum, mul, neg, onesLike, reshape, sign, sqrt, where,
  type GradConfig, type NamedTensorMap, type Tensor,
} from '@tensorflow/tfjs-core';
import {
  NormsABNApply, NormsABNTraining, NormsBackwardApply, NormsBackwardReduce, NormsBackwardTraining,
  type NormApplyAttrs,
} from '../kernel_names.js';
import {normView} from '../norm_view.js';
import {hasKernel, runKernel} from '../run_kernel.js';

export function invertibleGamma(gamma: Tensor, epsilon: number): Tensor {
  const s = where(equal(gamma, 0), onesLike(gamma), sign(gamma));
  return mul(s, maximum(abs(gamma), Math.max(epsilon, 1e-12)));
}

const run = (name: string, inputs: NamedTensorMap, attrs: object) =>
  runKernel(name, inputs, attrs) as Tensor | Tensor[];

export const abnTrainingGradConfig: GradConfig = {
  kernelName: NormsABNTraining,
  inputsToSave: ['gamma', 'beta'],
  // y, variance and meanOffset.
  outputsToSave: [true, false, true, false, true],
  gradFunc: (dys, saved, attrs) => {
    const [dy, dMean, dVariance] = dys as Tensor[];
    const [gamma, beta, y, variance, mean] = saved;
    const a = attrs as NormApplyAttrs;
    const inputs: NamedTensorMap = {dy, y, mean, variance, gamma: invertibleGamma(gamma, a.epsilon), beta, dMean, dVariance};
    if (hasKernel(NormsBackwardTraining)) {
      const [dx, sumDz, sumDzXhat] = run(NormsBackwardTraining, inputs, a) as Tensor[];
      return {x: () => dx, gamma: () => reshape(sumDzXhat, gamma.shape), beta: () => reshape(sumDz, beta.shape)};
    }
    const [sumDz, sumDzXhat, slotDg, slotDgX] = run(NormsBackwardReduce, inputs, a) as Tensor[];
    return {
      x: () => run(NormsBackwardApply, {...inputs, slotSumDzGamma: slotDg, slotSumDzGammaXhat: slotDgX},
                   {...a, training: true, count: normView(y.shape, a).count}) as Tensor,
      gamma: () => reshape(sumDzXhat, gamma.shape),
      beta: () => reshape(sumDz, beta.shape),
    };
  },
};

export const abnApplyGradConfig: GradConfig = {
  kernelName: NormsABNApply,
  inputsToSave: ['mean', 'variance', 'gamma', 'beta'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [mean, variance, gamma, beta, y] = saved;
    const a = attrs as NormApplyAttrs;
    const inputs: NamedTensorMap = {dy: dy as Tensor, y, mean, variance, gamma: invertibleGamma(gamma, a.epsilon), beta};
    const [sumDz, sumDzXhat, slotDg, slotDgX] = run(NormsBackwardReduce, inputs, a) as Tensor[];
    const varEps = add(variance, a.epsilon);
    return {
      x: () => run(NormsBackwardApply, inputs, {...a, training: false, count: 0}) as Tensor,
      mean: () => neg(div(slotDg, sqrt(varEps))),
      variance: () => div(mul(slotDgX, -0.5), varEps),
      gamma: () => reshape(sumDzXhat, gamma.shape),
      beta: () => reshape(sumDz, beta.shape),
    };
  },
};
