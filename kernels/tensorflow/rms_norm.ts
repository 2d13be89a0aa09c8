/**
 * RMSNorm's tensorflow kernels, on the `[rows, D]` view with the fewest full-size TensorFlow ops.
 *
 * Forward: `EuclideanNorm` per row (one read of x), `invRms = Rsqrt(n²/D + eps)` on `[rows]`,
 * then two broadcast `Mul`s. Backward: `P = dy·x` once; both reductions are matrix-vector
 * products of P (`Σ_j P·gamma` per row, `Σ_r invRms·P` per column), then
 * `dx = (dy·gamma)·invRms − x·k` with `k = invRms³·Σ(P·gamma)/D`.
 */
import type {KernelConfig, TensorInfo} from '@tensorflow/tfjs-core';
import {
  NormsRMSNorm, type NormsRMSNormAttrs, NormsRMSNormGrad, type NormsRMSNormGradInputs, type NormsRMSNormInputs,
} from '../../src/kernel_names.js';
import {rmsView} from '../../src/norm_view.js';
import {withEager, type Eager, type H} from './tf_exec.js';

/** `EuclideanNorm` over axis 1 of a 2-D handle, `[rows]`. */
function rowNorm(e: Eager, x: H): H {
  return e.reduce('EuclideanNorm', x, [1]);
}

function matMul(e: Eager, a: H, b: H): H {
  return e.run1('MatMul', [a, b], [e.bool('transpose_a', false), e.bool('transpose_b', false)]);
}

export const rmsNormConfig: KernelConfig = {
  kernelName: NormsRMSNorm,
  backendName: 'tensorflow',
  kernelFunc: ({inputs, backend, attrs}) => withEager(backend, (e): TensorInfo[] => {
    const {x, gamma} = inputs as NormsRMSNormInputs;
    const a = attrs as NormsRMSNormAttrs;
    const {rows, D} = rmsView(x.shape, a.axisCount);
    const x2 = e.reshape(e.input(x), [rows, D]);
    const n = rowNorm(e, x2);
    const inv = e.run1('Rsqrt', [e.add(e.mul(e.run1('Square', [n]), e.f32([1 / D], [])), e.f32([a.epsilon], []))]);
    const t = e.mul(x2, e.reshape(inv, [rows, 1]));
    const y = e.mul(t, e.reshape(e.input(gamma), [1, D]));
    e.free(t);
    return [e.output(y, x.shape), e.output(inv, [rows])];
  }),
};

export const rmsNormGradConfig: KernelConfig = {
  kernelName: NormsRMSNormGrad,
  backendName: 'tensorflow',
  kernelFunc: ({inputs, backend, attrs}) => withEager(backend, (e): TensorInfo[] => {
    const {dy, x, invRms, gamma} = inputs as NormsRMSNormGradInputs;
    const {rows, D} = rmsView(x.shape, (attrs as NormsRMSNormAttrs).axisCount);
    const x2 = e.reshape(e.input(x), [rows, D]);
    const dy2 = e.reshape(e.input(dy), [rows, D]);
    const invCol = e.reshape(e.input(invRms), [rows, 1]);
    const gRow = e.reshape(e.input(gamma), [1, D]);
    const p = e.mul(dy2, x2);
    const s = matMul(e, p, e.reshape(e.input(gamma), [D, 1]));
    const dgamma = matMul(e, e.reshape(e.input(invRms), [1, rows]), p);
    e.free(p);
    // k = invRms³ · s / D per row.
    const k = e.mul(e.mul(e.mul(e.run1('Square', [invCol]), invCol), s), e.f32([1 / D], []));
    const g = e.mul(dy2, gRow);
    const a1 = e.mul(g, invCol);
    e.free(g);
    const b1 = e.mul(x2, k);
    const dx = e.sub(a1, b1);
    e.free(a1, b1);
    return [e.output(dx, x.shape), e.output(dgamma, gamma.shape)];
  }),
};
