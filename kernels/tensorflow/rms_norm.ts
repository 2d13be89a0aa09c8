/**
 * RMSNorm's tensorflow kernels: the fewest full-size TensorFlow ops, on `x`'s own shape (no
 * `Reshape`s), with the per-row scalars computed on the host in float64.
 *
 * Forward (3 ops): `EuclideanNorm` over the normalized axes (one read of x), `invRms =
 * (n²/D + eps)^-1/2` per row on the host, then `Mul` by `invRms` (per row) and `Mul` by `gamma`
 * (broadcast over the rows). Every TensorFlow op is one pass over memory and none scales by a
 * per-row and a per-column factor at once (docs/kernels.md), so three passes is the least.
 *
 * Backward: `P = dy·x` once; both reductions are matrix-vector products of P (`Σ_j P·gamma` per
 * row, read back to the host, and `Σ_r invRms·P` per column), then
 * `dx = (dy·gamma)·invRms − x·k` with `k = invRms³·Σ(P·gamma)/D` per row.
 */
import type {KernelConfig, TensorInfo} from '@tensorflow/tfjs-core';
import {
  NormsRMSNorm, type NormsRMSNormAttrs, NormsRMSNormGrad, type NormsRMSNormGradInputs, type NormsRMSNormInputs,
} from '../../src/kernel_names.js';
import {rmsView} from '../../src/norm_view.js';
import {withEager, type Eager, type H} from './tf_exec.js';

function matMul(e: Eager, a: H, b: H): H {
  return e.run1('MatMul', [a, b], [e.bool('transpose_a', false), e.bool('transpose_b', false)]);
}

/** `x`'s shape with the normalized (trailing) axes set to 1: per-row values broadcast over them. */
function rowShape(shape: readonly number[], axisCount: number): number[] {
  return shape.map((d, i) => (i < shape.length - axisCount ? d : 1));
}

/** Per-row `f(value)` of a small handle, as a float32 tensor of `shape`. */
function perRow(e: Eager, h: H, shape: number[], f: (v: number) => number): {values: Float32Array; h: H} {
  const v = e.read(h);
  const values = new Float32Array(v.length);
  for (let r = 0; r < v.length; r++) values[r] = f(v[r]);
  return {values, h: e.f32(values, shape)};
}

export const rmsNormConfig: KernelConfig = {
  kernelName: NormsRMSNorm,
  backendName: 'tensorflow',
  kernelFunc: ({inputs, backend, attrs}) => withEager(backend, (e): TensorInfo[] => {
    const {x, gamma} = inputs as NormsRMSNormInputs;
    const {axisCount, epsilon} = attrs as NormsRMSNormAttrs;
    const {rows, D} = rmsView(x.shape, axisCount);
    const xh = e.input(x);
    const axes = x.shape.map((_, i) => i).slice(x.shape.length - axisCount);
    const n = e.reduce('EuclideanNorm', xh, axes);
    const inv = perRow(e, n, rowShape(x.shape, axisCount), (v) => 1 / Math.sqrt((v * v) / D + epsilon));
    const t = e.mul(xh, inv.h);
    const y = e.mul(t, e.input(gamma));
    e.free(t);
    return [e.output(y, x.shape), e.outputHost(inv.values, [rows])];
  }),
};

export const rmsNormGradConfig: KernelConfig = {
  kernelName: NormsRMSNormGrad,
  backendName: 'tensorflow',
  kernelFunc: ({inputs, backend, attrs}) => withEager(backend, (e): TensorInfo[] => {
    const {dy, x, invRms, gamma} = inputs as NormsRMSNormGradInputs;
    const {axisCount} = attrs as NormsRMSNormAttrs;
    const {rows, D} = rmsView(x.shape, axisCount);
    const xh = e.input(x);
    const dyh = e.input(dy);
    const inv = e.readInput(invRms);
    const p = e.mul(dyh, xh);
    const p2 = e.reshape(p, [rows, D]);
    const s = matMul(e, p2, e.reshape(e.input(gamma), [D, 1]));
    const dgamma = matMul(e, e.f32(inv, [1, rows]), p2);
    e.free(p, p2);
    // k = invRms³ · Σ(P·gamma) / D per row, on the host.
    const sv = e.read(s);
    const k = new Float32Array(rows);
    for (let r = 0; r < rows; r++) k[r] = (inv[r] * inv[r] * inv[r] * sv[r]) / D;
    const perRowShape = rowShape(x.shape, axisCount);
    const g = e.mul(dyh, e.input(gamma));
    const a1 = e.mul(g, e.f32(inv, perRowShape));
    e.free(g);
    const b1 = e.mul(xh, e.f32(k, perRowShape));
    const dx = e.sub(a1, b1);
    e.free(a1, b1);
    return [e.output(dx, x.shape), e.output(dgamma, gamma.shape)];
  }),
};
