/**
 * How a tensorflow kernel sees its input: the view of `x` its ops work on, per-(sample, channel)
 * and per-slot host tables, and the affine parameters (`gamma`, `beta`) read once per call.
 */
import type {NamedAttrMap, TensorInfo} from '@tensorflow/tfjs-core';
import type {NormActivation, NormApplyAttrs} from '../../src/kernel_names.js';
import {normView, type NormView} from '../../src/norm_view.js';
import type {Eager, H} from './tf_exec.js';

export interface NormLayout {
  v: NormView;
  shape: number[];
  /** Per-sample slots without a spatial axis: the `[N, G, cpg]` row-column form. */
  rowcol: boolean;
  /** Channel form: the shape the ops work on (`x`'s own when the view allows). */
  W: number[];
  /** Channel axis of `W`. */
  ca: number;
  /** Spatial axes of `W`. */
  spatial: number[];
  /** Leading extent of per-channel coefficient tensors (N per sample, else 1). */
  P: number;
  /** Shape of per-(sample, channel) coefficients, broadcastable to `W`. */
  coefShape: number[];
  /** Row-column form: the view (`x` itself for LayerNorm), per-slot coefficient shape, gamma/beta
   * shape and the axes of a row. */
  R: number[];
  slotShape: number[];
  chanShape: number[];
  rowAxes: number[];
}

export function normLayout(shape: readonly number[], attrs: NamedAttrMap): NormLayout {
  const a = attrs as unknown as NormApplyAttrs;
  const v = normView(shape, a);
  const rowcol = v.perSample && v.S === 1;
  const P = v.perSample ? v.N : 1;
  const simple = a.batchAxes === 1 && a.channelAxes === 1;
  const W = simple ? shape.slice() : (v.channelsLast ? [v.N, v.S, v.C] : [v.N, v.C, v.S]);
  const ca = v.channelsLast ? W.length - 1 : 1;
  const spatial: number[] = [];
  for (let i = 1; i < W.length; i++) if (i !== ca) spatial.push(i);
  const coefShape = W.map((_, i) => (i === 0 ? P : i === ca ? v.C : 1));
  // LayerNorm works on x's own shape: statistics over its trailing (channel) axes.
  const native = rowcol && v.groups === 1 && v.channelsLast;
  const R = native ? shape.slice() : [v.N, v.groups, v.cpg];
  const rowAxes = native ? R.map((_, i) => i).slice(a.batchAxes) : [2];
  const slotShape = R.map((d, i) => (rowAxes.includes(i) ? 1 : d));
  const chanShape = native ? shape.slice(a.batchAxes) : [v.groups, v.cpg];
  return {v, shape: shape.slice(), rowcol, W, ca, spatial, P, coefShape, R, slotShape, chanShape, rowAxes};
}

/** Statistics slot of (sample-or-0 `p`, channel `c`). */
export function slotOf(v: NormView, p: number, c: number): number {
  return (v.perSample ? p * v.groups : 0) + Math.floor(c / v.cpg);
}

/** A `[P, C]` table of per-(sample, channel) values. */
export function perChannel(L: NormLayout, f: (slot: number, c: number) => number): Float32Array {
  const {v, P} = L;
  const out = new Float32Array(P * v.C);
  for (let p = 0; p < P; p++) for (let c = 0; c < v.C; c++) out[p * v.C + c] = f(slotOf(v, p, c), c);
  return out;
}

/** A `[slots]` table of per-slot values. */
export function perSlot(v: NormView, f: (slot: number) => number): Float32Array {
  const out = new Float32Array(v.slots);
  for (let s = 0; s < v.slots; s++) out[s] = f(s);
  return out;
}

export interface Affine {
  epsilon: number;
  activation: NormActivation;
  alpha: number;
  gammaIn?: TensorInfo;
  betaIn?: TensorInfo;
}

export function affine(attrs: NamedAttrMap, gamma: TensorInfo | undefined, beta: TensorInfo | undefined): Affine {
  const a = attrs as unknown as NormApplyAttrs;
  return {epsilon: a.epsilon, activation: a.activation, alpha: a.alpha, gammaIn: gamma, betaIn: beta};
}

/** Host copies of gamma and beta (flat, `[C]`; 1 and 0 when absent), read on first use. */
export class Params {
  private g?: Float32Array;
  private b?: Float32Array;

  constructor(private readonly e: Eager, private readonly L: NormLayout, readonly p: Affine) {}

  get gamma(): Float32Array {
    this.g ??= this.p.gammaIn ? this.e.readInput(this.p.gammaIn) : new Float32Array(this.L.v.C).fill(1);
    return this.g;
  }

  get beta(): Float32Array {
    this.b ??= this.p.betaIn ? this.e.readInput(this.p.betaIn) : new Float32Array(this.L.v.C);
    return this.b;
  }

  /** gamma or beta as a tensor of `shape` (the kernel input itself when there is one). */
  tensor(which: 'gamma' | 'beta', shape: number[], tile = 1): H {
    const t = which === 'gamma' ? this.p.gammaIn : this.p.betaIn;
    if (t && tile === 1) return this.e.reshape(this.e.input(t), shape);
    const host = which === 'gamma' ? this.gamma : this.beta;
    if (tile === 1) return this.e.f32(host, shape);
    const out = new Float32Array(host.length * tile);
    for (let i = 0; i < tile; i++) out.set(host, i * host.length);
    return this.e.f32(out, shape);
  }
}

export function allZero(values: ArrayLike<number> | null): boolean {
  if (values === null) return true;
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) return false;
  return true;
}

export function rstd(variance: ArrayLike<number>, epsilon: number): Float64Array {
  const r = new Float64Array(variance.length);
  for (let i = 0; i < r.length; i++) r[i] = 1 / Math.sqrt(variance[i] + epsilon);
  return r;
}
