/**
 * The fused loops behind every cpu and wasm kernel, on plain typed arrays (the kernels
 * around them are in norm_kernels.ts).
 *
 * `x` is seen as `[N, C, S]` or `[N, S, C]` (see `NormView`). Each routine walks it once per
 * sample with per-channel coefficient tables for that sample (`a[c]`, `b[c]` so that
 * `xhat = x * a[c] + b[c]`), which serves BatchNorm (one table for all samples), GroupNorm,
 * InstanceNorm and LayerNorm alike. Sums are accumulated in float64 (JS numbers) and results
 * rounded to float32 once.
 */
import {ELU_INVERSE_MIN} from '../../src/activation.js';
import type {NormActivation} from '../../src/kernel_names.js';
import type {NormView} from '../../src/norm_view.js';
import {columnSums, normalizeRows, ROWS, scaleShift, scaleShiftColumns} from './block_loops.js';

export interface ActivationSpec {
  activation: NormActivation;
  alpha: number;
}

const enum Act { Linear, Relu, LeakyRelu, Elu }

function actCode(activation: NormActivation): Act {
  switch (activation) {
    case 'relu': return Act.Relu;
    case 'leakyRelu': return Act.LeakyRelu;
    case 'elu': return Act.Elu;
    default: return Act.Linear;
  }
}

function activate(z: number, act: Act, alpha: number): number {
  if (act === Act.Linear || z > 0) return z;
  if (act === Act.Relu) return 0;
  if (act === Act.LeakyRelu) return alpha * z;
  return alpha * (Math.exp(z) - 1);
}

/** `act(z)` as a function, or null for the identity (so hot loops can skip the call). */
export function activationFn(spec: ActivationSpec): ((z: number) => number) | null {
  const act = actCode(spec.activation);
  if (act === Act.Linear) return null;
  const alpha = spec.alpha;
  return (z) => activate(z, act, alpha);
}

/** d act(z) / dz, with the subgradient 0 (relu) / alpha (leakyRelu) at z = 0 as PyTorch. */
function activateGrad(z: number, act: Act, alpha: number): number {
  if (act === Act.Linear || z > 0) return 1;
  if (act === Act.Relu) return 0;
  if (act === Act.LeakyRelu) return alpha;
  return alpha * Math.exp(z);
}

/** Statistics slot of every channel within one sample's block of slots. */
function groupOfChannel(v: NormView): Int32Array {
  const g = new Int32Array(v.C);
  for (let c = 0; c < v.C; c++) g[c] = Math.floor(c / v.cpg);
  return g;
}

/** First slot of sample `n`. */
function slotBase(v: NormView, n: number): number {
  return v.perSample ? n * v.groups : 0;
}

/**
 * Each sample is one slot laid out contiguously with channels last (LayerNorm, GroupNorm with
 * one group): the loops then need no per-channel tables, only the slot's mean and rstd.
 */
function rowSlots(v: NormView): boolean {
  return v.perSample && v.groups === 1 && v.channelsLast;
}

/** `t`, or `fill` in every channel. */
function orFilled(t: Float32Array | null, C: number, fill: number): Float32Array {
  return t ?? new Float32Array(C).fill(fill);
}

export interface Moments {
  /** Mean per slot in float64, for the fused training kernel. */
  exactMean: Float64Array;
  mean: Float32Array;
  variance: Float32Array;
  /** The slot's first element, and the mean's offset from it. */
  shift: Float32Array;
  meanOffset: Float32Array;
}

/** Mean and biased variance per slot, by shifted sums (shift = the slot's first element). */
export function moments(x: Float32Array, v: NormView): Moments {
  const {N, C, S, cpg, slots, count} = v;
  const shift = new Float64Array(slots);
  const sum = new Float64Array(slots);
  const sq = new Float64Array(slots);
  if (count > 0) {
    for (let slot = 0; slot < slots; slot++) {
      const n = v.perSample ? Math.floor(slot / v.groups) : 0;
      const c = (slot % v.groups) * cpg;
      shift[slot] = x[v.channelsLast ? n * S * C + c : (n * C + c) * S];
    }
  }
  const group = groupOfChannel(v);
  if (rowSlots(v)) {
    for (let n = 0; n < N; n++) {
      const k = shift[n];
      let s1 = 0, s2 = 0;
      for (let i = n * S * C, end = i + S * C; i < end; i++) {
        const d = x[i] - k;
        s1 += d;
        s2 += d * d;
      }
      sum[n] = s1;
      sq[n] = s2;
    }
  } else if (!v.channelsLast) {
    for (let n = 0; n < N; n++) {
      const base = slotBase(v, n);
      for (let c = 0; c < C; c++) {
        const slot = base + group[c];
        const k = shift[slot];
        let s1 = 0, s2 = 0;
        for (let i = (n * C + c) * S, end = i + S; i < end; i++) {
          const d = x[i] - k;
          s1 += d;
          s2 += d * d;
        }
        sum[slot] += s1;
        sq[slot] += s2;
      }
    }
  } else {
    const k = new Float64Array(C);
    const s1 = new Float64Array(C);
    const s2 = new Float64Array(C);
    for (let n = 0; n < N; n++) {
      const base = slotBase(v, n);
      if (n === 0 || v.perSample) {
        for (let c = 0; c < C; c++) k[c] = shift[base + group[c]];
      }
      columnSums(x, n * S * C, S, C, k, s1, s2);
      if (v.perSample || n === N - 1) {
        for (let c = 0; c < C; c++) {
          sum[base + group[c]] += s1[c];
          sq[base + group[c]] += s2[c];
        }
        s1.fill(0);
        s2.fill(0);
      }
    }
  }
  return momentsOfSums(shift, sum, sq, count);
}

/** Per-slot statistics from the shifts and the float64 shifted sums Σd, Σd² of `count` elements. */
export function momentsOfSums(shift: Float64Array, sum: Float64Array, sq: Float64Array, count: number): Moments {
  const slots = shift.length;
  const exactMean = new Float64Array(slots);
  const meanOffset = new Float32Array(slots);
  const variance = new Float32Array(slots);
  for (let slot = 0; slot < slots; slot++) {
    const m = sum[slot] / count;
    meanOffset[slot] = m;
    exactMean[slot] = shift[slot] + m;
    variance[slot] = Math.max(0, sq[slot] / count - m * m);
  }
  return {exactMean, mean: Float32Array.from(exactMean), variance, shift: Float32Array.from(shift), meanOffset};
}

/** The slot means in float64: `shift + mean` when a shift is given. */
export function slotMeans(mean: Float32Array, shift: Float32Array | null): Float64Array {
  const m = Float64Array.from(mean);
  if (shift !== null) for (let i = 0; i < m.length; i++) m[i] += shift[i];
  return m;
}

/** Per-channel tables of one sample: `xhat = x * a[c] + b[c]`, `gamma[c] * rstd` in `g`. */
class SampleCoefficients {
  readonly a: Float64Array;
  readonly b: Float64Array;
  readonly g: Float64Array;
  private readonly group: Int32Array;
  private readonly rstd: Float64Array;

  constructor(private readonly v: NormView, private readonly mean: Float64Array,
              variance: Float32Array, epsilon: number, private readonly gamma: Float32Array | null) {
    this.a = new Float64Array(v.C);
    this.b = new Float64Array(v.C);
    this.g = new Float64Array(v.C);
    this.group = groupOfChannel(v);
    this.rstd = new Float64Array(variance.length);
    for (let i = 0; i < variance.length; i++) this.rstd[i] = 1 / Math.sqrt(variance[i] + epsilon);
  }

  /** Fills the tables for sample `n`; returns false when they already hold them. */
  load(n: number): boolean {
    if (n > 0 && !this.v.perSample) return false;
    const base = slotBase(this.v, n);
    for (let c = 0; c < this.v.C; c++) {
      const slot = base + this.group[c];
      const r = this.rstd[slot];
      this.a[c] = r;
      this.b[c] = -this.mean[slot] * r;
      this.g[c] = this.gamma === null ? r : this.gamma[c] * r;
    }
    return true;
  }

  slotOf(n: number, c: number): number {
    return slotBase(this.v, n) + this.group[c];
  }

  rstdOf(slot: number): number {
    return this.rstd[slot];
  }
}

export interface ApplyParams extends ActivationSpec {
  v: NormView;
  /** Slot means in float64 (see `slotMeans`). */
  mean: Float64Array;
  variance: Float32Array;
  gamma: Float32Array | null;
  beta: Float32Array | null;
  epsilon: number;
}

/** `y = act(xhat * gamma + beta)`, written into `y`. */
export function apply(x: Float32Array, p: ApplyParams, y: Float32Array): void {
  const {v, gamma, beta, alpha} = p;
  const {N, C, S} = v;
  const act = actCode(p.activation);
  if (rowSlots(v)) {
    const gm = orFilled(gamma, C, 1), bt = orFilled(beta, C, 0);
    for (let n = 0; n < N; n++) {
      const m = p.mean[n], r = 1 / Math.sqrt(p.variance[n] + p.epsilon);
      let s = 0, i = n * S * C;
      if (act === Act.Linear) {
        // The sample's positions are rows of C channels with one mean and deviation.
        for (; s + ROWS <= S; s += ROWS, i += ROWS * C) normalizeRows(x, y, i, C, C, 0, m, m, m, m, r, r, r, r, gm, bt);
      }
      for (; s < S; s++) {
        for (let c = 0; c < C; c++, i++) y[i] = activate((x[i] - m) * r * gm[c] + bt[c], act, alpha);
      }
    }
    return;
  }
  const co = new SampleCoefficients(v, p.mean, p.variance, p.epsilon, gamma);
  // y = x * scale[c] + shift[c] folds normalization and affine into one multiply-add.
  const scale = new Float64Array(C);
  const shift = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    if (co.load(n)) {
      for (let c = 0; c < C; c++) {
        const gm = gamma === null ? 1 : gamma[c];
        scale[c] = co.a[c] * gm;
        shift[c] = co.b[c] * gm + (beta === null ? 0 : beta[c]);
      }
    }
    if (act === Act.Linear) {
      if (v.channelsLast) {
        scaleShiftColumns(x, y, n * S * C, S, C, scale, shift);
      } else {
        for (let c = 0, i = n * C * S; c < C; c++, i += S) scaleShift(x, y, i, i + S, scale[c], shift[c]);
      }
    } else if (!v.channelsLast) {
      for (let c = 0; c < C; c++) {
        const sc = scale[c], sh = shift[c];
        const start = (n * C + c) * S, end = start + S;
        for (let i = start; i < end; i++) y[i] = activate(x[i] * sc + sh, act, alpha);
      }
    } else {
      for (let s = 0, i = n * S * C; s < S; s++) {
        for (let c = 0; c < C; c++, i++) y[i] = activate(x[i] * scale[c] + shift[c], act, alpha);
      }
    }
  }
}

/** `act⁻¹(y)` for the invertible activations (In-Place ABN; safe range: src/activation.ts). */
function invertActivation(y: number, act: Act, alpha: number): number {
  if (act === Act.Linear || y > 0) return y;
  if (act === Act.LeakyRelu) return y / alpha;
  return Math.log1p(Math.max(y / alpha, ELU_INVERSE_MIN));
}

/** `act'(z)` expressed through `y = act(z)`. */
function activateGradFromOutput(y: number, act: Act, alpha: number): number {
  if (act === Act.Linear || y > 0) return 1;
  if (act === Act.LeakyRelu) return alpha;
  return y + alpha;
}

export interface BackwardReduceResult {
  /** Σ dz per channel: the gradient of beta. */
  sumDz: Float64Array;
  /** Σ dz·xhat per channel: the gradient of gamma. */
  sumDzXhat: Float64Array;
  /** Σ dz·gamma per slot. */
  slotSumDzGamma: Float64Array;
  /** Σ dz·gamma·xhat per slot. */
  slotSumDzGammaXhat: Float64Array;
}

/**
 * Where the backward kernels get `xhat` from: `x` with the statistics, or (In-Place ABN) the
 * forward output `y`, inverting the activation and the affine map.
 */
export interface BackwardSource {
  data: Float32Array;
  fromOutput: boolean;
}

function inverseGamma(gamma: Float32Array | null, C: number): Float64Array {
  const g = new Float64Array(C);
  for (let c = 0; c < C; c++) g[c] = gamma === null ? 1 : 1 / gamma[c];
  return g;
}

/** One pass over `dy` and `x` (or `y`) for every reduction the backward pass needs. */
export function backwardReduce(dy: Float32Array, src: BackwardSource, p: ApplyParams): BackwardReduceResult {
  const {v, gamma, beta, alpha} = p;
  const {N, C, S} = v;
  const x = src.data;
  const act = actCode(p.activation);
  const co = new SampleCoefficients(v, p.mean, p.variance, p.epsilon, gamma);
  const ig = inverseGamma(gamma, C);
  const chDz = new Float64Array(C);
  const chDzX = new Float64Array(C);
  const slotDg = new Float64Array(v.slots);
  const slotDgX = new Float64Array(v.slots);
  // Per-sample channel sums, folded into the slots (weighted by gamma) after each sample.
  const nDz = new Float64Array(C);
  const nDzX = new Float64Array(C);
  if (rowSlots(v) && act === Act.Linear && !src.fromOutput) {
    const gm = orFilled(gamma, C, 1);
    for (let n = 0; n < N; n++) {
      const m = p.mean[n], r = co.rstdOf(n);
      let sg = 0, sgx = 0;
      for (let i = n * S * C, end = i + S * C; i < end;) {
        for (let c = 0; c < C; c++, i++) {
          const xh = (x[i] - m) * r, d = dy[i], dg = d * gm[c];
          chDz[c] += d;
          chDzX[c] += d * xh;
          sg += dg;
          sgx += dg * xh;
        }
      }
      slotDg[n] = sg;
      slotDgX[n] = sgx;
    }
    return {sumDz: chDz, sumDzXhat: chDzX, slotSumDzGamma: slotDg, slotSumDzGammaXhat: slotDgX};
  }
  for (let n = 0; n < N; n++) {
    co.load(n);
    const {a, b} = co;
    if (!v.channelsLast) {
      for (let c = 0; c < C; c++) {
        const ac = a[c], bc = b[c];
        const gm = gamma === null ? 1 : gamma[c], bt = beta === null ? 0 : beta[c];
        let s1 = 0, s2 = 0;
        const start = (n * C + c) * S, end = start + S;
        if (src.fromOutput) {
          const igc = ig[c];
          for (let i = start; i < end; i++) {
            const yv = x[i];
            const d = dy[i] * activateGradFromOutput(yv, act, alpha);
            s1 += d;
            s2 += d * (invertActivation(yv, act, alpha) - bt) * igc;
          }
        } else if (act === Act.Linear) {
          for (let i = start; i < end; i++) {
            const d = dy[i];
            s1 += d;
            s2 += d * (x[i] * ac + bc);
          }
        } else {
          for (let i = start; i < end; i++) {
            const xh = x[i] * ac + bc;
            const d = dy[i] * activateGrad(xh * gm + bt, act, alpha);
            s1 += d;
            s2 += d * xh;
          }
        }
        nDz[c] = s1;
        nDzX[c] = s2;
      }
    } else {
      nDz.fill(0);
      nDzX.fill(0);
      for (let s = 0, i = n * S * C; s < S; s++) {
        if (src.fromOutput) {
          for (let c = 0; c < C; c++, i++) {
            const yv = x[i];
            const d = dy[i] * activateGradFromOutput(yv, act, alpha);
            nDz[c] += d;
            nDzX[c] += d * (invertActivation(yv, act, alpha) - (beta === null ? 0 : beta[c])) * ig[c];
          }
        } else if (act === Act.Linear) {
          for (let c = 0; c < C; c++, i++) {
            const d = dy[i];
            nDz[c] += d;
            nDzX[c] += d * (x[i] * a[c] + b[c]);
          }
        } else {
          for (let c = 0; c < C; c++, i++) {
            const xh = x[i] * a[c] + b[c];
            const z = xh * (gamma === null ? 1 : gamma[c]) + (beta === null ? 0 : beta[c]);
            const d = dy[i] * activateGrad(z, act, alpha);
            nDz[c] += d;
            nDzX[c] += d * xh;
          }
        }
      }
    }
    for (let c = 0; c < C; c++) {
      chDz[c] += nDz[c];
      chDzX[c] += nDzX[c];
      const gm = gamma === null ? 1 : gamma[c];
      const slot = co.slotOf(n, c);
      slotDg[slot] += gm * nDz[c];
      slotDgX[slot] += gm * nDzX[c];
    }
  }
  return {sumDz: chDz, sumDzXhat: chDzX, slotSumDzGamma: slotDg, slotSumDzGammaXhat: slotDgX};
}

export interface BackwardApplyParams extends ApplyParams {
  dy: Float32Array | null;
  training: boolean;
  count: number;
  slotSumDzGamma: ArrayLike<number> | null;
  slotSumDzGammaXhat: ArrayLike<number> | null;
  dMean: Float32Array | null;
  dVariance: Float32Array | null;
}

/**
 * `dx = dz * gamma * rstd + xhat * k1[slot] + k2[slot]`, where in training
 * `k1 = -rstd * ΣdzγX / count + 2 * dVariance / (rstd * count)` and
 * `k2 = -rstd * Σdzγ / count + dMean / count` (both zero in inference). Written into `dx`.
 */
export function backwardApply(src: BackwardSource, p: BackwardApplyParams, dx: Float32Array): void {
  const {v, gamma, beta, alpha, dy, count} = p;
  const {N, C, S} = v;
  const x = src.data;
  const act = actCode(p.activation);
  const co = new SampleCoefficients(v, p.mean, p.variance, p.epsilon, gamma);
  const ig = inverseGamma(gamma, C);
  const k1 = new Float64Array(v.slots);
  const k2 = new Float64Array(v.slots);
  if (p.training) {
    for (let slot = 0; slot < v.slots; slot++) {
      const r = co.rstdOf(slot);
      const sg = p.slotSumDzGamma === null ? 0 : p.slotSumDzGamma[slot];
      const sgx = p.slotSumDzGammaXhat === null ? 0 : p.slotSumDzGammaXhat[slot];
      const dm = p.dMean === null ? 0 : p.dMean[slot];
      const dv = p.dVariance === null ? 0 : p.dVariance[slot];
      k1[slot] = (-r * sgx + 2 * dv / r) / count;
      k2[slot] = (-r * sg + dm) / count;
    }
  }
  const k1c = new Float64Array(C);
  const k2c = new Float64Array(C);
  const p1 = new Float64Array(C);
  const p2 = new Float64Array(C);
  if (rowSlots(v) && act === Act.Linear && !src.fromOutput) {
    const gm = orFilled(gamma, C, 1);
    for (let n = 0; n < N; n++) {
      const m = p.mean[n], r = co.rstdOf(n), q1 = k1[n], q2 = k2[n];
      for (let i = n * S * C, end = i + S * C; i < end;) {
        if (dy === null) {
          for (let c = 0; c < C; c++, i++) dx[i] = (x[i] - m) * r * q1 + q2;
        } else {
          for (let c = 0; c < C; c++, i++) {
            const xh = (x[i] - m) * r;
            dx[i] = dy[i] * gm[c] * r + xh * q1 + q2;
          }
        }
      }
    }
    return;
  }
  for (let n = 0; n < N; n++) {
    if (co.load(n)) {
      for (let c = 0; c < C; c++) {
        const slot = co.slotOf(n, c);
        k1c[c] = k1[slot];
        k2c[c] = k2[slot];
      }
    }
    const {a, b, g} = co;
    if (!v.channelsLast && !src.fromOutput) {
      for (let c = 0; c < C; c++) {
        const ac = a[c], bc = b[c], gc = g[c], q1 = k1c[c], q2 = k2c[c];
        const gm = gamma === null ? 1 : gamma[c], bt = beta === null ? 0 : beta[c];
        const start = (n * C + c) * S, end = start + S;
        if (dy === null) {
          for (let i = start; i < end; i++) dx[i] = (x[i] * ac + bc) * q1 + q2;
        } else if (act === Act.Linear) {
          for (let i = start; i < end; i++) dx[i] = dy[i] * gc + (x[i] * ac + bc) * q1 + q2;
        } else {
          for (let i = start; i < end; i++) {
            const xh = x[i] * ac + bc;
            dx[i] = dy[i] * activateGrad(xh * gm + bt, act, alpha) * gc + xh * q1 + q2;
          }
        }
      }
    } else if (v.channelsLast && !src.fromOutput && act === Act.Linear) {
      // dx = dy·g + x·p + q with xhat = x·a + b folded into per-channel p = a·k1, q = b·k1 + k2.
      for (let c = 0; c < C; c++) {
        p1[c] = a[c] * k1c[c];
        p2[c] = b[c] * k1c[c] + k2c[c];
      }
      const end = (n + 1) * S * C;
      if (dy === null) {
        for (let i = n * S * C; i < end;) for (let c = 0; c < C; c++, i++) dx[i] = x[i] * p1[c] + p2[c];
      } else {
        for (let i = n * S * C; i < end;) for (let c = 0; c < C; c++, i++) dx[i] = dy[i] * g[c] + x[i] * p1[c] + p2[c];
      }
    } else {
      // Channels last with an activation, or xhat from the output: one element at a time.
      const at = (i: number, c: number) => {
        const bt = beta === null ? 0 : beta[c];
        let xh: number, dz = 0;
        if (src.fromOutput) {
          const yv = x[i];
          xh = (invertActivation(yv, act, alpha) - bt) * ig[c];
          if (dy !== null) dz = dy[i] * activateGradFromOutput(yv, act, alpha);
        } else {
          xh = x[i] * a[c] + b[c];
          if (dy !== null) {
            dz = act === Act.Linear ? dy[i]
              : dy[i] * activateGrad(xh * (gamma === null ? 1 : gamma[c]) + bt, act, alpha);
          }
        }
        dx[i] = dz * g[c] + xh * k1c[c] + k2c[c];
      };
      if (v.channelsLast) {
        for (let s = 0, i = n * S * C; s < S; s++) for (let c = 0; c < C; c++, i++) at(i, c);
      } else {
        for (let c = 0, i = n * C * S; c < C; c++) for (let s = 0; s < S; s++, i++) at(i, c);
      }
    }
  }
}
