/**
 * The kernels of the contract as compositions of tfjs-core's kernels (see `ops.ts`): what every
 * op runs on a backend without fused kernels of ours, and the webgl kernels' path where their
 * programs cannot run. Statistics are two passes over `x − shift` (`shift` the slot's first
 * element), so data far from zero (1000 + 0.01·noise) keeps its precision; precision is that of
 * the backend's float32 arithmetic.
 */
import type {KernelBackend, TensorInfo} from '@tensorflow/tfjs-core';
import type {NormApplyAttrs} from '../../src/kernel_names.js';
import {normView, type NormView} from '../../src/norm_view.js';
import {act, actGrad, actGradY, actInv, Views, withOps, type Ops} from './ops.js';

/** The backward kernels' inputs (exactly one of `x` and `y`). */
export interface BackwardInputs {
  dy?: TensorInfo;
  x?: TensorInfo;
  y?: TensorInfo;
  mean?: TensorInfo;
  variance: TensorInfo;
  gamma?: TensorInfo;
  beta?: TensorInfo;
  shift?: TensorInfo;
  slotSumDzGamma?: TensorInfo;
  slotSumDzGammaXhat?: TensorInfo;
  dMean?: TensorInfo;
  dVariance?: TensorInfo;
}

/** Keeps kernel outputs alive past the disposal of the intermediates. */
function keep(o: Ops, ts: TensorInfo[]): TensorInfo[] {
  return ts.map((t) => o.keep(t));
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

export function momentsComposite(b: KernelBackend, bn: string, {x}: {x: TensorInfo}, a: NormApplyAttrs): TensorInfo[] {
  return withOps(b, bn, (o) => {
    const v = normView(x.shape, a);
    const w = new Views(o, v, x.shape);
    const s = stats(o, w, x);
    const mean = o.add(s.shift, s.off);
    return keep(o, [mean, s.variance, s.shift, s.off].map((t) => slotVector(o, t, v.slots)));
  });
}

export function normalizeTrainingComposite(b: KernelBackend, bn: string,
                                          {x, gamma, beta}: {x: TensorInfo; gamma?: TensorInfo; beta?: TensorInfo},
                                          a: NormApplyAttrs): TensorInfo[] {
  return withOps(b, bn, (o) => {
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

export function applyComposite(b: KernelBackend, bn: string, ins: {x: TensorInfo; mean: TensorInfo; variance: TensorInfo;
  gamma?: TensorInfo; beta?: TensorInfo; shift?: TensorInfo}, a: NormApplyAttrs): TensorInfo {
  return withOps(b, bn, (o) => {
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

export function backwardReduceComposite(b: KernelBackend, bn: string, ins: BackwardInputs, a: NormApplyAttrs): TensorInfo[] {
  return withOps(b, bn, (o) => {
    const t = backwardTerms(o, ins, a);
    const s = sums(o, t);
    const slots = t.v.slots;
    return keep(o, [s.sumDz, s.sumDzXhat, o.reshape(s.sg, [slots]), o.reshape(s.sgx, [slots])]);
  });
}

export function backwardApplyComposite(b: KernelBackend, bn: string, ins: BackwardInputs,
                                      a: NormApplyAttrs & {training: boolean; count: number}): TensorInfo {
  return withOps(b, bn, (o) => {
    const t = backwardTerms(o, ins, a);
    const k = a.training
      ? ks(o, t, ins.slotSumDzGamma ?? null, ins.slotSumDzGammaXhat ?? null, ins.dMean, ins.dVariance, a.count)
      : null;
    return keep(o, [dxOf(o, t, k ? k.k1 : null, k ? k.k2 : null)])[0];
  });
}

export function backwardTrainingComposite(b: KernelBackend, bn: string, ins: BackwardInputs, a: NormApplyAttrs): TensorInfo[] {
  return withOps(b, bn, (o) => {
    const t = backwardTerms(o, ins, a);
    const s = sums(o, t);
    const slots = t.v.slots;
    const k = ks(o, t, o.reshape(s.sg, [slots]), o.reshape(s.sgx, [slots]), ins.dMean, ins.dVariance, t.v.count);
    return keep(o, [dxOf(o, t, k.k1, k.k2), s.sumDz, s.sumDzXhat]);
  });
}

