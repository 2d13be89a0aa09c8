/**
 * The kernels built from tfjs's own webgl kernels (Reshape, Transpose, Sum, arithmetic), for
 * contexts where the fused programs cannot run: no float32 render targets (half-float textures
 * would overflow or round the partial sums) or no WebGL 2. Same contract, same exact-mean
 * handling (statistics of `x − shift`, two passes); precision is that of the context's textures.
 */
import type {TensorInfo} from '@tensorflow/tfjs-core';
import type {NormActivation, NormApplyAttrs} from '../../src/kernel_names.js';
import {normView, type NormView} from '../../src/norm_view.js';
import {callKernel, Scratch, type WebGLBackend} from './backend_util.js';
import type {BackwardInputs} from './norm_webgl.js';

class Ops {
  constructor(readonly b: WebGLBackend, readonly sc: Scratch) {}
  private k(name: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown> = {}): TensorInfo {
    return this.sc.add(callKernel(this.b, name, inputs, attrs) as TensorInfo);
  }
  scalar(v: number): TensorInfo {
    return this.sc.add(this.b.makeTensorInfo([], 'float32', new Float32Array([v])));
  }
  reshape(x: TensorInfo, shape: number[]) { return this.k('Reshape', {x}, {shape}); }
  transpose(x: TensorInfo, perm: number[]) { return this.k('Transpose', {x}, {perm}); }
  sum(x: TensorInfo, axis: number[], keepDims = true) {
    // tfjs-backend-webgl's Sum cannot reduce an empty tensor; a sum over nothing is 0.
    if (!x.shape.includes(0)) return this.k('Sum', {x}, {axis, keepDims});
    const shape = x.shape.map((d, i) => (axis.includes(i) ? 1 : d));
    return this.fill(keepDims ? shape : shape.filter((_, i) => !axis.includes(i)), 0);
  }
  add(a: TensorInfo, b: TensorInfo) { return this.k('Add', {a, b}); }
  sub(a: TensorInfo, b: TensorInfo) { return this.k('Sub', {a, b}); }
  mul(a: TensorInfo, b: TensorInfo) { return this.k('Multiply', {a, b}); }
  div(a: TensorInfo, b: TensorInfo) { return this.k('RealDiv', {a, b}); }
  sqrt(x: TensorInfo) { return this.k('Sqrt', {x}); }
  exp(x: TensorInfo) { return this.k('Exp', {x}); }
  log1p(x: TensorInfo) { return this.k('Log1p', {x}); }
  minimum(a: TensorInfo, b: TensorInfo) { return this.k('Minimum', {a, b}); }
  maximum(a: TensorInfo, b: TensorInfo) { return this.k('Maximum', {a, b}); }
  slice(x: TensorInfo, begin: number[], size: number[]) { return this.k('Slice', {x}, {begin, size}); }
  /** 1 where x > 0, else 0 (float). */
  positive(x: TensorInfo) { return this.k('Cast', {x: this.k('Greater', {a: x, b: this.scalar(0)})}, {dtype: 'float32'}); }
  /** `m ? a : b` for a 0/1 mask `m`, as `b + m·(a − b)` (a, b finite). */
  select(m: TensorInfo, a: TensorInfo, b: TensorInfo) { return this.add(b, this.mul(m, this.sub(a, b))); }
  fill(shape: number[], v: number) { return this.k('Fill', {}, {shape, value: v, dtype: 'float32'}); }
}

/** The `[N, C, S]` and per-slot `[Nn, G, L]` views of a tensor laid out like `x`. */
class Views {
  readonly Nn: number;
  readonly L: number;
  constructor(readonly o: Ops, readonly v: NormView, readonly shape: number[]) {
    this.Nn = v.perSample ? v.N : 1;
    this.L = v.count;
  }
  toNCS(t: TensorInfo): TensorInfo {
    const {N, C, S} = this.v;
    if (!this.v.channelsLast) return this.o.reshape(t, [N, C, S]);
    return this.o.transpose(this.o.reshape(t, [N, S, C]), [0, 2, 1]);
  }
  fromNCS(t: TensorInfo): TensorInfo {
    const {N, C, S} = this.v;
    if (!this.v.channelsLast) return this.o.reshape(t, this.shape);
    return this.o.reshape(this.o.transpose(this.o.reshape(t, [N, C, S]), [0, 2, 1]), this.shape);
  }
  toSlots(t: TensorInfo): TensorInfo {
    const {N, groups: G, cpg, S} = this.v;
    const g = this.o.reshape(t, [N, G, cpg * S]);
    if (this.v.perSample) return g;
    return this.o.reshape(this.o.transpose(g, [1, 0, 2]), [1, G, this.L]);
  }
  fromSlots(t: TensorInfo): TensorInfo {
    const {N, C, groups: G, cpg, S} = this.v;
    if (this.v.perSample) return this.o.reshape(t, [N, C, S]);
    return this.o.reshape(this.o.transpose(this.o.reshape(t, [G, N, cpg * S]), [1, 0, 2]), [N, C, S]);
  }
  /** A per-slot vector `[slots]` as `[Nn, G, 1]`; per-channel `[C]` as `[1, C, 1]`. */
  slotCol(t: TensorInfo): TensorInfo { return this.o.reshape(t, [this.Nn, this.v.groups, 1]); }
  chanCol(t: TensorInfo): TensorInfo { return this.o.reshape(t, [1, this.v.C, 1]); }
}

function act(o: Ops, z: TensorInfo, a: NormActivation, alpha: number): TensorInfo {
  if (a === 'linear') return z;
  const m = o.positive(z);
  if (a === 'relu') return o.mul(m, z);
  if (a === 'leakyRelu') return o.select(m, z, o.mul(z, o.scalar(alpha)));
  return o.select(m, z, o.mul(o.scalar(alpha), o.sub(o.exp(o.minimum(z, o.scalar(0))), o.scalar(1))));
}

function actGrad(o: Ops, z: TensorInfo, a: NormActivation, alpha: number): TensorInfo | null {
  if (a === 'linear') return null;
  const m = o.positive(z);
  if (a === 'relu') return m;
  if (a === 'leakyRelu') return o.select(m, o.scalar(1), o.scalar(alpha));
  return o.select(m, o.scalar(1), o.mul(o.scalar(alpha), o.exp(o.minimum(z, o.scalar(0)))));
}

function actInv(o: Ops, y: TensorInfo, a: NormActivation, alpha: number): TensorInfo {
  if (a === 'leakyRelu') return o.select(o.positive(y), y, o.div(y, o.scalar(alpha)));
  if (a === 'elu') {
    const u = o.maximum(o.div(y, o.scalar(alpha)), o.scalar(-1 + 1e-7));
    return o.select(o.positive(y), y, o.log1p(o.minimum(u, o.scalar(0))));
  }
  return y;
}

function actGradY(o: Ops, y: TensorInfo, a: NormActivation, alpha: number): TensorInfo | null {
  if (a === 'leakyRelu') return o.select(o.positive(y), o.scalar(1), o.scalar(alpha));
  if (a === 'elu') return o.select(o.positive(y), o.scalar(1), o.add(y, o.scalar(alpha)));
  return null;
}

function withOps<T>(b: WebGLBackend, f: (o: Ops) => T): T {
  const sc = new Scratch(b);
  try {
    return f(new Ops(b, sc));
  } finally {
    sc.dispose();
  }
}

/** Keeps kernel outputs alive past the scratch disposal. */
function keep(o: Ops, ts: TensorInfo[]): TensorInfo[] {
  return ts.map((t) => o.sc.release(t));
}

interface SlotStats {shift: TensorInfo; off: TensorInfo; variance: TensorInfo}

/** Two-pass statistics of `x − shift` per slot, as `[Nn, G, 1]`. */
function stats(o: Ops, w: Views, x: TensorInfo): SlotStats {
  const xs = w.toSlots(w.toNCS(x));
  const shift = o.slice(xs, [0, 0, 0], [w.Nn, w.v.groups, 1]);
  const d = o.sub(xs, shift);
  const n = o.scalar(w.L);
  const off = o.div(o.sum(d, [2]), n);
  const dev = o.sub(d, off);
  const variance = o.div(o.sum(o.mul(dev, dev), [2]), n);
  return {shift, off, variance};
}

function rstdOf(o: Ops, variance: TensorInfo, epsilon: number): TensorInfo {
  return o.div(o.scalar(1), o.sqrt(o.add(variance, o.scalar(epsilon))));
}

/** `act(((x − shift) − off)·rstd·γ + β)`; `shift`, `off`, `rstd` as `[Nn, G, 1]`. */
function applyWith(o: Ops, w: Views, x: TensorInfo, s: {shift: TensorInfo; off: TensorInfo; rstd: TensorInfo},
                   gamma: TensorInfo | undefined, beta: TensorInfo | undefined, a: NormApplyAttrs): TensorInfo {
  const xs = w.toSlots(w.toNCS(x));
  let z = w.fromSlots(o.mul(o.sub(o.sub(xs, s.shift), s.off), s.rstd));
  if (gamma) z = o.mul(z, w.chanCol(gamma));
  if (beta) z = o.add(z, w.chanCol(beta));
  return w.fromNCS(act(o, z, a.activation, a.alpha));
}

function slotVector(o: Ops, t: TensorInfo, slots: number): TensorInfo {
  return o.reshape(t, [slots]);
}

export function momentsFallback(b: WebGLBackend, {x}: {x: TensorInfo}, a: NormApplyAttrs): TensorInfo[] {
  return withOps(b, (o) => {
    const v = normView(x.shape, a);
    const w = new Views(o, v, x.shape);
    const s = stats(o, w, x);
    const mean = o.add(s.shift, s.off);
    return keep(o, [mean, s.variance, s.shift, s.off].map((t) => slotVector(o, t, v.slots)));
  });
}

export function normalizeTrainingFallback(b: WebGLBackend,
                                          {x, gamma, beta}: {x: TensorInfo; gamma?: TensorInfo; beta?: TensorInfo},
                                          a: NormApplyAttrs): TensorInfo[] {
  return withOps(b, (o) => {
    const v = normView(x.shape, a);
    const w = new Views(o, v, x.shape);
    const s = stats(o, w, x);
    const y = applyWith(o, w, x, {...s, rstd: rstdOf(o, s.variance, a.epsilon)}, gamma, beta, a);
    const mean = o.add(s.shift, s.off);
    return keep(o, [y, ...[mean, s.variance, s.shift, s.off].map((t) => slotVector(o, t, v.slots))]);
  });
}

/** Per-slot `[Nn, G, 1]` shift and offset from the kernel's mean (and optional shift) inputs. */
function givenStats(o: Ops, w: Views, mean: TensorInfo | undefined, shift: TensorInfo | undefined) {
  const zero = o.fill([w.Nn, w.v.groups, 1], 0);
  const m = mean ? w.slotCol(mean) : zero;
  return shift ? {shift: w.slotCol(shift), off: m} : {shift: m, off: zero};
}

export function applyFallback(b: WebGLBackend, ins: {x: TensorInfo; mean: TensorInfo; variance: TensorInfo;
  gamma?: TensorInfo; beta?: TensorInfo; shift?: TensorInfo}, a: NormApplyAttrs): TensorInfo {
  return withOps(b, (o) => {
    const v = normView(ins.x.shape, a);
    const w = new Views(o, v, ins.x.shape);
    const s = givenStats(o, w, ins.mean, ins.shift);
    const rstd = rstdOf(o, w.slotCol(ins.variance), a.epsilon);
    return keep(o, [applyWith(o, w, ins.x, {...s, rstd}, ins.gamma, ins.beta, a)])[0];
  });
}

interface Backward {
  v: NormView;
  w: Views;
  /** In `[N, C, S]`. */
  xh: TensorInfo;
  dz: TensorInfo | null;
  gamma: TensorInfo;
  rstd: TensorInfo;
}

function backwardTerms(o: Ops, ins: BackwardInputs, a: NormApplyAttrs): Backward {
  const src = (ins.x ?? ins.y)!;
  const v = normView(src.shape, a);
  const w = new Views(o, v, src.shape);
  const gamma = ins.gamma ? w.chanCol(ins.gamma) : o.fill([1, v.C, 1], 1);
  const beta = ins.beta ? w.chanCol(ins.beta) : o.fill([1, v.C, 1], 0);
  const rstd = rstdOf(o, w.slotCol(ins.variance), a.epsilon);
  const s3 = w.toNCS(src);
  let xh: TensorInfo, grad: TensorInfo | null;
  if (ins.x) {
    const s = givenStats(o, w, ins.mean, ins.shift);
    xh = w.fromSlots(o.mul(o.sub(o.sub(w.toSlots(s3), s.shift), s.off), rstd));
    grad = actGrad(o, o.add(o.mul(xh, gamma), beta), a.activation, a.alpha);
  } else {
    xh = o.div(o.sub(actInv(o, s3, a.activation, a.alpha), beta), gamma);
    grad = actGradY(o, s3, a.activation, a.alpha);
  }
  let dz: TensorInfo | null = null;
  if (ins.dy) {
    dz = w.toNCS(ins.dy);
    if (grad) dz = o.mul(dz, grad);
  }
  return {v, w, xh, dz, gamma, rstd};
}

function sums(o: Ops, t: Backward) {
  const {w, xh, dz, gamma, v} = t;
  const dzx = o.mul(dz!, xh);
  const dzg = o.mul(dz!, gamma);
  return {
    sumDz: o.reshape(o.sum(dz!, [0, 2], false), [v.C]),
    sumDzXhat: o.reshape(o.sum(dzx, [0, 2], false), [v.C]),
    sg: o.sum(w.toSlots(dzg), [2]),
    sgx: o.sum(w.toSlots(o.mul(dzg, xh)), [2]),
  };
}

/** `dx` from the terms, with per-slot `[Nn, G, 1]` k1, k2. */
function dxOf(o: Ops, t: Backward, k1: TensorInfo | null, k2: TensorInfo | null): TensorInfo {
  const {w} = t;
  let dxs: TensorInfo | null = t.dz ? o.mul(w.toSlots(o.mul(t.dz, t.gamma)), t.rstd) : null;
  if (k1 && k2) {
    const lin = o.add(o.mul(w.toSlots(t.xh), k1), k2);
    dxs = dxs ? o.add(dxs, lin) : lin;
  }
  if (!dxs) dxs = o.fill([w.Nn, w.v.groups, w.L], 0);
  return w.fromNCS(w.fromSlots(dxs));
}

function ks(o: Ops, t: Backward, sg: TensorInfo | null, sgx: TensorInfo | null, dMean: TensorInfo | undefined,
            dVariance: TensorInfo | undefined, count: number) {
  const {w, rstd} = t;
  const zero = o.fill([w.Nn, w.v.groups, 1], 0);
  const col = (x: TensorInfo | null | undefined) => (x ? w.slotCol(x) : zero);
  const n = o.scalar(count);
  const k1 = o.div(o.add(o.mul(o.mul(rstd, col(sgx)), o.scalar(-1)), o.div(o.mul(col(dVariance), o.scalar(2)), rstd)), n);
  const k2 = o.div(o.sub(col(dMean), o.mul(rstd, col(sg))), n);
  return {k1, k2};
}

export function backwardReduceFallback(b: WebGLBackend, ins: BackwardInputs, a: NormApplyAttrs): TensorInfo[] {
  return withOps(b, (o) => {
    const t = backwardTerms(o, ins, a);
    const s = sums(o, t);
    const slots = t.v.slots;
    return keep(o, [s.sumDz, s.sumDzXhat, o.reshape(s.sg, [slots]), o.reshape(s.sgx, [slots])]);
  });
}

export function backwardApplyFallback(b: WebGLBackend, ins: BackwardInputs,
                                      a: NormApplyAttrs & {training: boolean; count: number}): TensorInfo {
  return withOps(b, (o) => {
    const t = backwardTerms(o, ins, a);
    const k = a.training
      ? ks(o, t, ins.slotSumDzGamma ?? null, ins.slotSumDzGammaXhat ?? null, ins.dMean, ins.dVariance, a.count)
      : null;
    return keep(o, [dxOf(o, t, k ? k.k1 : null, k ? k.k2 : null)])[0];
  });
}

export function backwardTrainingFallback(b: WebGLBackend, ins: BackwardInputs, a: NormApplyAttrs): TensorInfo[] {
  return withOps(b, (o) => {
    const t = backwardTerms(o, ins, a);
    const s = sums(o, t);
    const slots = t.v.slots;
    const k = ks(o, t, o.reshape(s.sg, [slots]), o.reshape(s.sgx, [slots]), ins.dMean, ins.dVariance, t.v.count);
    return keep(o, [dxOf(o, t, k.k1, k.k2), s.sumDz, s.sumDzXhat]);
  });
}

