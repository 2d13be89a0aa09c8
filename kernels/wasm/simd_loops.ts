/**
 * The loops of kernels/cpu/loops.ts on the WebAssembly SIMD build (simd/norm_simd.c), for the
 * wasm kernels' `KernelIO.loops`. This file only lays out per-channel tables and float64 sums in
 * a scratch block of tfjs's heap and calls the SIMD functions on the tensors in place (a view's
 * `byteOffset` is its heap address); the statistics decomposition is the JavaScript loops'
 * (kernels/cpu/norm_loops.ts, slot_loops.ts). Whatever it does not cover, or any array that is
 * not on the heap, goes to the JavaScript loops: In-Place ABN's backward from the output, tables
 * larger than the scratch block.
 */
import type {NormActivation} from '../../src/kernel_names.js';
import type {NormView} from '../../src/norm_view.js';
import {JS_LOOPS, type NormLoops} from '../cpu/loops.js';
import {momentsOfSums, type ApplyParams, type BackwardApplyParams, type BackwardReduceResult, type BackwardSource,
  type Moments} from '../cpu/norm_loops.js';
import {contiguousSlots, type SlotParams} from '../cpu/slot_loops.js';
import type {SimdInstance} from './simd_module.js';

/** Calls that ran on the SIMD build, per loop (tests check that the SIMD path is taken). */
export const simdCalls: Record<string, number> = {};

const ACT: Record<NormActivation, number> = {linear: 0, relu: 1, leakyRelu: 2, elu: 3};

const F32 = 4;
const F64 = 8;

/** Bump allocation in the scratch block, one call at a time; throws `Full` when it is exhausted. */
class Scratch {
  private next: number;
  private readonly end: number;
  constructor(private readonly s: SimdInstance) {
    this.next = s.scratch;
    this.end = s.scratch + s.scratchBytes;
  }
  /** The current position, for `release`. */
  mark(): number {
    return this.next;
  }
  /** Frees everything taken since `mark` (per-sample tables reuse one block). */
  release(mark: number): void {
    this.next = mark;
  }
  private take(bytes: number): number {
    const p = (this.next + 15) & ~15;
    if (p + bytes > this.end) throw FULL;
    this.next = p + bytes;
    return p;
  }
  f32(n: number): Float32Array {
    return new Float32Array(this.s.memory.buffer, this.take(n * F32), n);
  }
  /** Zeroed. */
  f64(n: number): Float64Array {
    return new Float64Array(this.s.memory.buffer, this.take(n * F64), n).fill(0);
  }
  /** `t` if it is on the heap, else a copy (or `fill` in every entry for null) in scratch. */
  onHeap(t: ArrayLike<number> | null, n: number, fill: number): Float32Array {
    if (t instanceof Float32Array && t.buffer === this.s.memory.buffer) return t;
    const c = this.f32(n);
    if (t === null) c.fill(fill);
    else for (let i = 0; i < n; i++) c[i] = t[i];
    return c;
  }
}
const FULL = new Error('tfjs-norms: SIMD scratch full');

const ptr = (a: Float32Array | Float64Array) => a.byteOffset;

function slotBase(v: NormView, n: number): number {
  return v.perSample ? n * v.groups : 0;
}

/** Whether every array is a view of the instance's heap. */
function onHeap(s: SimdInstance, ...arrays: (Float32Array | null)[]): boolean {
  return arrays.every((a) => a === null || a.buffer === s.memory.buffer);
}

/** Each sample is one slot with channels last (LayerNorm rows): per-row coefficients. */
function rowSlots(v: NormView): boolean {
  return v.perSample && v.groups === 1 && v.channelsLast;
}

/**
 * Runs `body` once per sample of a channels-last view with per-sample slots (else once over all
 * rows): the sample's byte offset and row count; per-sample scratch is released between samples.
 */
function eachSample(sc: Scratch, v: NormView, body: (n: number, offset: number, rows: number) => void): void {
  const per = v.perSample ? v.N : 1;
  const rows = v.perSample ? v.S : v.N * v.S;
  const mark = sc.mark();
  for (let n = 0; n < per; n++) {
    sc.release(mark);
    body(n, n * v.S * v.C * F32, rows);
  }
}

/**
 * Per-entry coefficient tables (float32, in scratch): entry t is channel t % C of sample
 * n0 + ⌊t / C⌋. x̂ = ((x − k) − mo)·r with the slot mean split into k + mo; gm, bt gamma and
 * beta; G = gm·r; q1, q2 the backward's per-slot terms (zero when not given).
 */
function tables(sc: Scratch, T: number, v: NormView, n0: number, p: ApplyParams,
                q?: {k1: Float64Array; k2: Float64Array}): Float32Array {
  const tab = sc.f32(8 * T);
  const {C, cpg} = v;
  for (let t = 0; t < T; t++) {
    const n = n0 + Math.floor(t / C), c = t % C;
    const slot = slotBase(v, n) + Math.floor(c / cpg);
    const m = p.mean[slot];
    const k = Math.fround(m);
    const r = 1 / Math.sqrt(p.variance[slot] + p.epsilon);
    const gm = p.gamma === null ? 1 : p.gamma[c];
    tab[t] = k;
    tab[T + t] = m - k;
    tab[2 * T + t] = r;
    tab[3 * T + t] = gm;
    tab[4 * T + t] = p.beta === null ? 0 : p.beta[c];
    tab[5 * T + t] = gm * r;
    tab[6 * T + t] = q === undefined ? 0 : q.k1[slot];
    tab[7 * T + t] = q === undefined ? 0 : q.k2[slot];
  }
  return tab;
}

/** The address of table `i` (of 8) in `tab`. */
const col = (tab: Float32Array, i: number) => tab.byteOffset + i * (tab.length / 8) * F32;

/** The backward's per-slot terms k1, k2 (see `backwardApply` in norm_loops.ts). */
function backwardTerms(p: BackwardApplyParams): {k1: Float64Array; k2: Float64Array} {
  const slots = p.variance.length;
  const k1 = new Float64Array(slots);
  const k2 = new Float64Array(slots);
  if (p.training) {
    for (let slot = 0; slot < slots; slot++) {
      const r = 1 / Math.sqrt(p.variance[slot] + p.epsilon);
      const sg = p.slotSumDzGamma === null ? 0 : p.slotSumDzGamma[slot];
      const sgx = p.slotSumDzGammaXhat === null ? 0 : p.slotSumDzGammaXhat[slot];
      const dm = p.dMean === null ? 0 : p.dMean[slot];
      const dv = p.dVariance === null ? 0 : p.dVariance[slot];
      k1[slot] = (-r * sgx + 2 * dv / r) / p.count;
      k2[slot] = (-r * sg + dm) / p.count;
    }
  }
  return {k1, k2};
}

/** The SIMD loops on instance `s`; each falls back to the JavaScript loop it replaces. */
export function simdLoops(s: SimdInstance): NormLoops {
  const f = s.fns;
  /** Runs `simd` with a fresh scratch block; `js` when it does not apply or the block is too small. */
  function run<R>(name: string, ok: boolean, simd: (sc: Scratch) => R, js: () => R): R {
    if (ok) {
      try {
        const r = simd(new Scratch(s));
        simdCalls[name] = (simdCalls[name] ?? 0) + 1;
        return r;
      } catch (e) {
        if (e !== FULL) throw e;
      }
    }
    return js();
  }

  function slotsForward(x: Float32Array, y: Float32Array | null, p: SlotParams, mode: number,
                        given?: {mean: Float64Array; variance: Float32Array}): (sc: Scratch) => Moments {
    return (sc) => {
      const {v} = p;
      const g = sc.onHeap(p.gamma, v.C, 1), b = sc.onHeap(p.beta, v.C, 0);
      const shift = sc.f32(v.slots), meanOffset = sc.f32(v.slots);
      const variance = given === undefined ? sc.f32(v.slots) : sc.onHeap(given.variance, v.slots, 0);
      const exactMean = sc.f64(v.slots);
      if (given !== undefined) exactMean.set(given.mean);
      f.slots_forward(ptr(x), y === null ? 0 : ptr(y), v.slots, v.groups, v.cpg, v.S, ptr(g), ptr(b), p.epsilon,
                      ACT[p.activation], p.alpha, mode, ptr(shift), ptr(meanOffset), ptr(variance), ptr(exactMean));
      return {exactMean: Float64Array.from(exactMean), mean: Float32Array.from(exactMean),
        variance: Float32Array.from(variance), shift: Float32Array.from(shift), meanOffset: Float32Array.from(meanOffset)};
    };
  }

  const loops: NormLoops = {
    slotMoments: (x, v) => run('slotMoments', onHeap(s, x),
        slotsForward(x, null, {v, gamma: null, beta: null, epsilon: 0, activation: 'linear', alpha: 0}, 0),
        () => JS_LOOPS.slotMoments(x, v)),

    normalizeSlots: (x, p, y) => run('normalizeSlots', onHeap(s, x, y), slotsForward(x, y, p, 1),
        () => JS_LOOPS.normalizeSlots(x, p, y)),

    applySlots: (x, p, y) => run('applySlots', onHeap(s, x, y), (sc) => {
      slotsForward(x, y, p, 2, p)(sc);
    }, () => JS_LOOPS.applySlots(x, p, y)),

    moments: (x, v) => run('moments', onHeap(s, x), (sc) => {
      const {N, C, S, cpg, slots} = v;
      const shift = new Float64Array(slots);
      for (let slot = 0; slot < slots; slot++) {
        const n = v.perSample ? Math.floor(slot / v.groups) : 0;
        const c = (slot % v.groups) * cpg;
        if (v.count > 0) shift[slot] = x[v.channelsLast ? n * S * C + c : (n * C + c) * S];
      }
      const sum = new Float64Array(slots), sq = new Float64Array(slots);
      // Per-entry sums (entry: channel c of sample n0 + ⌊t / C⌋), folded into their slots.
      const fold = (T: number, n0: number, run: (k: Float32Array, s1: Float64Array, s2: Float64Array) => void) => {
        const k = sc.f32(T), s1 = sc.f64(T), s2 = sc.f64(T);
        for (let t = 0; t < T; t++) k[t] = shift[slotBase(v, n0 + Math.floor(t / C)) + Math.floor((t % C) / cpg)];
        run(k, s1, s2);
        for (let t = 0; t < T; t++) {
          const slot = slotBase(v, n0 + Math.floor(t / C)) + Math.floor((t % C) / cpg);
          sum[slot] += s1[t];
          sq[slot] += s2[t];
        }
      };
      if (rowSlots(v) || contiguousSlots(v)) {
        // Contiguous slots of `count` elements: their statistics only.
        const flat = {...v, groups: 1, cpg: v.count, S: 1};
        return slotsForward(x, null, {v: flat, gamma: null, beta: null, epsilon: 0, activation: 'linear', alpha: 0}, 0)(sc);
      }
      if (!v.channelsLast) {
        const T = v.perSample ? N * C : C;
        fold(T, 0, (k, s1, s2) => f.stats_runs(ptr(x), N * C, S, T, ptr(k), ptr(s1), ptr(s2)));
      } else {
        const acc = sc.f32(2 * C);
        eachSample(sc, v, (n, o, rows) => fold(C, n, (k, s1, s2) =>
          f.stats_rows(ptr(x) + o, rows, C, ptr(k), ptr(s1), ptr(s2), ptr(acc))));
      }
      return momentsOfSums(shift, sum, sq, v.count);
    }, () => JS_LOOPS.moments(x, v)),

    apply: (x, p, y) => run('apply', onHeap(s, x, y), (sc) => {
      const {v} = p;
      const {N, C, S} = v;
      const act = ACT[p.activation];
      if (!v.channelsLast) {
        const T = v.perSample ? N * C : C;
        const tab = tables(sc, T, v, 0, p);
        f.apply_runs(ptr(x), ptr(y), N * C, S, T, col(tab, 0), col(tab, 1), col(tab, 5), col(tab, 4), act, p.alpha);
        return;
      }
      eachSample(sc, v, (n, o, rows) => {
        const tab = tables(sc, C, v, n, p);
        f.apply_rows(ptr(x) + o, ptr(y) + o, rows, C, col(tab, 0), col(tab, 1), col(tab, 5), col(tab, 4), act, p.alpha);
      });
    }, () => JS_LOOPS.apply(x, p, y)),

    backwardReduce: (dy, src, p) => run('backwardReduce', !src.fromOutput && onHeap(s, dy, src.data), (sc) => {
      const {v, gamma} = p;
      const {N, C, S} = v;
      const x = src.data;
      const act = ACT[p.activation];
      const res: BackwardReduceResult = {sumDz: new Float64Array(C), sumDzXhat: new Float64Array(C),
        slotSumDzGamma: new Float64Array(v.slots), slotSumDzGammaXhat: new Float64Array(v.slots)};
      if (rowSlots(v)) {
        const rows = N * S;
        const rk = sc.f32(rows), rmo = sc.f32(rows), rr = sc.f32(rows);
        for (let row = 0; row < rows; row++) {
          const n = Math.floor(row / S);
          const m = p.mean[n];
          rk[row] = m;
          rmo[row] = m - rk[row];
          rr[row] = 1 / Math.sqrt(p.variance[n] + p.epsilon);
        }
        const gm = sc.onHeap(gamma, C, 1), bt = sc.onHeap(p.beta, C, 0);
        const chDz = sc.f64(C), chDzX = sc.f64(C), rowSg = sc.f64(rows), rowSgx = sc.f64(rows);
        f.reduce_ln(ptr(dy), ptr(x), rows, C, ptr(rk), ptr(rmo), ptr(rr), ptr(gm), ptr(bt), act, p.alpha,
                    ptr(chDz), ptr(chDzX), ptr(rowSg), ptr(rowSgx), ptr(sc.f32(2 * C)));
        res.sumDz.set(chDz);
        res.sumDzXhat.set(chDzX);
        for (let row = 0; row < rows; row++) {
          const n = Math.floor(row / S);
          res.slotSumDzGamma[n] += rowSg[row];
          res.slotSumDzGammaXhat[n] += rowSgx[row];
        }
        return res;
      }
      const fold = (T: number, n0: number, s1: Float64Array, s2: Float64Array) => {
        for (let t = 0; t < T; t++) {
          const n = n0 + Math.floor(t / C), c = t % C;
          const slot = slotBase(v, n) + Math.floor(c / v.cpg);
          const gm = gamma === null ? 1 : gamma[c];
          res.sumDz[c] += s1[t];
          res.sumDzXhat[c] += s2[t];
          res.slotSumDzGamma[slot] += gm * s1[t];
          res.slotSumDzGammaXhat[slot] += gm * s2[t];
        }
      };
      if (!v.channelsLast) {
        const T = v.perSample ? N * C : C;
        const tab = tables(sc, T, v, 0, p);
        const s1 = sc.f64(T), s2 = sc.f64(T);
        f.reduce_runs(ptr(dy), ptr(x), N * C, S, T, col(tab, 0), col(tab, 1), col(tab, 2), col(tab, 3), col(tab, 4),
                      act, p.alpha, ptr(s1), ptr(s2));
        fold(T, 0, s1, s2);
        return res;
      }
      const s1 = sc.f64(C), s2 = sc.f64(C), acc = sc.f32(2 * C);
      eachSample(sc, v, (n, o, rows) => {
        const tab = tables(sc, C, v, n, p);
        s1.fill(0);
        s2.fill(0);
        f.reduce_rows(ptr(dy) + o, ptr(x) + o, rows, C, col(tab, 0), col(tab, 1), col(tab, 2), col(tab, 3), col(tab, 4),
                      act, p.alpha, ptr(s1), ptr(s2), ptr(acc));
        fold(C, n, s1, s2);
      });
      return res;
    }, () => JS_LOOPS.backwardReduce(dy, src, p)),

    backwardApply: (src: BackwardSource, p, dx) => run('backwardApply', !src.fromOutput && onHeap(s, src.data, p.dy, dx),
        (sc) => {
          const {v} = p;
          const {N, C, S} = v;
          const x = src.data;
          const act = ACT[p.activation];
          const dy = p.dy === null ? 0 : ptr(p.dy);
          const q = backwardTerms(p);
          if (rowSlots(v)) {
            const rows = N * S;
            const rtab = sc.f32(5 * rows);
            for (let row = 0; row < rows; row++) {
              const n = Math.floor(row / S);
              const m = p.mean[n];
              rtab[row] = m;
              rtab[rows + row] = m - rtab[row];
              rtab[2 * rows + row] = 1 / Math.sqrt(p.variance[n] + p.epsilon);
              rtab[3 * rows + row] = q.k1[n];
              rtab[4 * rows + row] = q.k2[n];
            }
            const gm = sc.onHeap(p.gamma, C, 1), bt = sc.onHeap(p.beta, C, 0);
            f.bapply_ln(dy, ptr(x), ptr(dx), rows, C, ptr(rtab), ptr(gm), ptr(bt), act, p.alpha);
            return;
          }
          if (!v.channelsLast) {
            const T = v.perSample ? N * C : C;
            f.bapply_runs(dy, ptr(x), ptr(dx), N * C, S, T, ptr(tables(sc, T, v, 0, p, q)), act, p.alpha);
            return;
          }
          eachSample(sc, v, (n, o, rows) => f.bapply_rows(dy === 0 ? 0 : dy + o, ptr(x) + o, ptr(dx) + o, rows, C,
              ptr(tables(sc, C, v, n, p, q)), act, p.alpha));
        }, () => JS_LOOPS.backwardApply(src, p, dx)),

    rmsNormForward: (x, gamma, rows, D, epsilon, y, invRms) => run('rmsNormForward',
        y !== undefined && invRms !== undefined && onHeap(s, x, gamma, y, invRms), () => {
          f.rms_forward(ptr(x), ptr(gamma), ptr(y!), ptr(invRms!), rows, D, epsilon);
          return {y: y!, invRms: invRms!};
        }, () => JS_LOOPS.rmsNormForward(x, gamma, rows, D, epsilon, y, invRms)),

    rmsNormBackward: (dy, x, invRms, gamma, rows, D, dx, dgamma) => run('rmsNormBackward',
        dx !== undefined && dgamma !== undefined && onHeap(s, dy, x, invRms, gamma, dx, dgamma), (sc) => {
          f.rms_backward(ptr(dy), ptr(x), ptr(invRms), ptr(gamma), ptr(dx!), ptr(dgamma!), rows, D, ptr(sc.f64(D)),
                         ptr(sc.f32(D)));
          return {dx: dx!, dgamma: dgamma!};
        }, () => JS_LOOPS.rmsNormBackward(dy, x, invRms, gamma, rows, D, dx, dgamma)),
  };
  return loops;
}
