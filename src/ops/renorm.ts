/**
 * Batch Renormalization (Ioffe, 2017) as a rewrite of the affine parameters of the training
 * path: with `r`, `d` from the batch statistics, `((x − μ_B)/σ_B · r + d)·γ + β` is the plain
 * training normalization with `γ' = γ·r` and `β' = β + γ·d`. `r` and `d` are constants for the
 * gradient (`stopGradient`), so the gradients of `γ` and `β` through `γ'`, `β'` are exact.
 */
import {
  add, customGrad, div, maximum, minimum, mul, neg, sqrt, stack, sub, unstack, zerosLike, type Tensor,
} from '@tensorflow/tfjs-core';
import {NormsMoments, type NormViewAttrs} from '../kernel_names.js';
import {runKernel} from '../run_kernel.js';
import type {RenormOptions} from './types.js';
import {fail, paramInput} from './validate.js';

const KEYS = ['mean', 'stddev', 'rMax', 'rMin', 'dMax'];

function clipLimit(name: string, key: string, v: unknown, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0) fail(name, `'renorm.${key}' must be a number >= 0, got ${String(v)}`);
  return v;
}

/** `f()`, a function of `x`, as a constant for the gradient (its gradient is zero). */
function stopGradient(f: () => Tensor, x: Tensor): Tensor {
  return customGrad((...args: unknown[]) => ({value: f(), gradFunc: () => zerosLike(args[0] as Tensor)}))(x);
}

/** `γ' = γ·r` and `β' = β + γ·d` for the training kernel (absent γ counts as 1, β as 0). */
export function renormAffine(name: string, x: Tensor, view: NormViewAttrs, epsilon: number, C: number, what: string,
                             renorm: RenormOptions, gamma?: Tensor, beta?: Tensor): {gamma: Tensor; beta: Tensor} {
  if (typeof renorm !== 'object' || renorm === null) fail(name, `'renorm' must be an object with 'mean' and 'stddev'`);
  for (const k of Object.keys(renorm)) {
    if (!KEYS.includes(k)) fail(name, `unknown option 'renorm.${k}' (allowed: ${KEYS.join(', ')})`);
  }
  if (renorm.mean == null || renorm.stddev == null) fail(name, `'renorm.mean' and 'renorm.stddev' are required`);
  const mu = paramInput(name, 'renorm.mean', renorm.mean, [C], what)!;
  const sigma = paramInput(name, 'renorm.stddev', renorm.stddev, [C], what)!;
  const rMax = clipLimit(name, 'rMax', renorm.rMax, Infinity);
  const rMin = clipLimit(name, 'rMin', renorm.rMin, 1 / rMax);
  const dMax = clipLimit(name, 'dMax', renorm.dMax, Infinity);
  if (rMin > rMax) fail(name, `'renorm.rMin' (${rMin}) must not exceed 'renorm.rMax' (${rMax})`);
  const rd = stopGradient(() => {
    const [mean, variance] = runKernel(NormsMoments, {x}, view) as Tensor[];
    let rr = div(sqrt(add(variance, epsilon)), sigma);
    if (rMax < Infinity) rr = minimum(rr, rMax);
    if (rMin > 0) rr = maximum(rr, rMin);
    let dd = div(sub(mean, mu), sigma);
    if (dMax < Infinity) dd = maximum(minimum(dd, dMax), neg(dMax));
    return stack([rr, dd]);
  }, x);
  const [r, d] = unstack(rd);
  return gamma === undefined
    ? {gamma: r, beta: beta === undefined ? d : add(beta, d)}
    : {gamma: mul(gamma, r), beta: beta === undefined ? mul(gamma, d) : add(beta, mul(gamma, d))};
}
