/**
 * The computations behind the `tensorflow` kernels: which TensorFlow ops each variant runs, on
 * which view of `x` (docs/tensorflow.md has the measurements behind the choices).
 *
 * Big tensors only go through TensorFlow ops; per-slot and per-channel vectors (a few hundred
 * values) are combined on the host in float64, which is exact and costs microseconds where each
 * extra TensorFlow op costs ~8 µs (~20 µs for a `Reshape`), so the ops work on `x`'s own shape
 * whenever they can.
 *
 * Exactness (docs/kernels.md): statistics never use E[x²] − E[x]² on raw values.
 * - The reduction paths subtract the slot's first element (`shift`) first: `d = x − shift`
 *   (one pass), then `Sum(d)` and `EuclideanNorm(d)` (read-only) give shifted sums.
 * - `FusedBatchNormV3`/`FusedBatchNormGradV3` compute two-pass statistics themselves; their
 *   float32 mean is exact to ~1e-6·|mean|, so they run on raw `x` only when every slot's mean
 *   lies within `RAW_MEAN_LIMIT` standard deviations of zero (checked on their outputs), and on
 *   `d = x − shift` otherwise (data like 1000 + 0.01·noise).
 *
 * Views:
 * - channel form (BatchNorm, InstanceNorm, GroupNorm with spatial axes; BatchNorm of rank 2):
 *   `x` itself (or `[N, C, S]` / `[N, S, C]` for unusual views) with per-(sample, channel)
 *   coefficients broadcast over the spatial axes; partial sums per (sample, channel) are merged
 *   into slots on the host.
 * - row-column form (per-sample slots without spatial axes: LayerNorm, GroupNorm of rank 2):
 *   `[N, G, cpg]`, per-slot coefficients `[N, G, 1]` and per-channel gamma/beta `[G, cpg]`.
 * - `FusedBatchNorm*`: BatchNorm in NHWC (`x`, or `[1, N·S, 1, C]`) and NCHW (`x`, or
 *   `[N, C, S, 1]`); InstanceNorm with channels first as a batch norm over `[1, N·C, S, 1]`.
 */
import type {NamedAttrMap, TensorInfo} from '@tensorflow/tfjs-core';
import type {NormActivation, NormApplyAttrs} from '../../src/kernel_names.js';
import {normView, type NormView} from '../../src/norm_view.js';
import {sameShape, type Eager, type H} from './tf_exec.js';

/** Raw `x` goes to `FusedBatchNorm*` only when |mean| ≤ this many standard deviations. */
export const RAW_MEAN_LIMIT = 4;

/**
 * Raw sums Σx, Σx² give the statistics only when |mean| ≤ this many standard deviations
 * (Σx²/n is then at most 10 variances: the cancellation costs at most ~3.3 bits).
 */
export const RAW_SUMS_LIMIT = 3;

// ---------------------------------------------------------------------------------------------
// Layout and per-call parameters
// ---------------------------------------------------------------------------------------------

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
function slotOf(v: NormView, p: number, c: number): number {
  return (v.perSample ? p * v.groups : 0) + Math.floor(c / v.cpg);
}

/** A `[P, C]` table of per-(sample, channel) values. */
function perChannel(L: NormLayout, f: (slot: number, c: number) => number): Float32Array {
  const {v, P} = L;
  const out = new Float32Array(P * v.C);
  for (let p = 0; p < P; p++) for (let c = 0; c < v.C; c++) out[p * v.C + c] = f(slotOf(v, p, c), c);
  return out;
}

/** A `[slots]` table of per-slot values. */
function perSlot(v: NormView, f: (slot: number) => number): Float32Array {
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
class Params {
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

function allZero(values: ArrayLike<number> | null): boolean {
  if (values === null) return true;
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) return false;
  return true;
}

function rstd(variance: ArrayLike<number>, epsilon: number): Float64Array {
  const r = new Float64Array(variance.length);
  for (let i = 0; i < r.length; i++) r[i] = 1 / Math.sqrt(variance[i] + epsilon);
  return r;
}

/** Every slot's mean within `limit` standard deviations of zero (and the variance finite). */
export function rawStatisticsExact(mean: ArrayLike<number>, variance: ArrayLike<number>,
                                   limit = RAW_MEAN_LIMIT): boolean {
  for (let i = 0; i < mean.length; i++) {
    if (!(Number.isFinite(variance[i]) && Math.abs(mean[i]) <= limit * Math.sqrt(variance[i]))) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// FusedBatchNorm plans
// ---------------------------------------------------------------------------------------------

interface FbnPlan {
  format: string;
  /** Shape `x` takes for the op. */
  shape: number[];
  /** FBN channels = tile · C (InstanceNorm: one channel per (sample, channel)). */
  tile: number;
  channels: number;
}

/**
 * Whether `FusedBatchNorm*` takes channels-first views. cuDNN runs NCHW natively; TensorFlow's
 * CPU kernels transpose NCHW to NHWC and back around the op, which made BatchNorm NCHW and
 * InstanceNorm NCHW 1.6–1.8× slower than the reductions (docs/tensorflow.md).
 */
function channelsFirstFbn(gpu: boolean): boolean {
  const m = nativePaths.fusedBatchNormChannelsFirst;
  return m === 'gpu' ? gpu : m;
}

/** How `FusedBatchNormV3` serves this view, or null. */
function fbnPlan(L: NormLayout, gpu: boolean): FbnPlan | null {
  if (!nativePaths.fusedBatchNorm) return null;
  const {v, shape} = L;
  if (v.groups !== v.C || v.count < 2 || L.rowcol) return null;
  const rank = shape.length;
  const simple = sameShape(L.W, shape);
  if (!v.perSample) {
    if (v.channelsLast || v.S === 1) {
      if (simple && v.channelsLast && (rank === 4 || rank === 5)) {
        return {format: rank === 4 ? 'NHWC' : 'NDHWC', shape, tile: 1, channels: v.C};
      }
      return {format: 'NHWC', shape: [1, v.N * v.S, 1, v.C], tile: 1, channels: v.C};
    }
    if (!channelsFirstFbn(gpu)) return null;
    if (simple && (rank === 4 || rank === 5)) return {format: rank === 4 ? 'NCHW' : 'NCDHW', shape, tile: 1, channels: v.C};
    return {format: 'NCHW', shape: [v.N, v.C, v.S, 1], tile: 1, channels: v.C};
  }
  // InstanceNorm with channels first: a batch norm of the [N·C, S] rows.
  if (!v.channelsLast && v.S > 1 && channelsFirstFbn(gpu)) return {format: 'NCHW', shape: [1, v.N * v.C, v.S, 1], tile: v.N, channels: v.N * v.C};
  return null;
}

// ---------------------------------------------------------------------------------------------
// Activations
// ---------------------------------------------------------------------------------------------

export function activate(e: Eager, z: H, act: NormActivation, alpha: number): H {
  let y: H;
  switch (act) {
    case 'relu': y = e.relu(z); break;
    case 'leakyRelu': y = e.leakyRelu(z, alpha); break;
    case 'elu': {
      // alpha·(exp(z) − 1) for z ≤ 0 is LeakyRelu(Elu(z), alpha).
      const t = e.elu(z);
      y = alpha === 1 ? t : e.leakyRelu(t, alpha);
      if (y !== t) e.free(t);
      break;
    }
    default: return z;
  }
  e.free(z);
  return y;
}

/** `dy · act'(z)`. */
function activationGrad(e: Eager, dy: H, z: H, act: NormActivation, alpha: number): H {
  switch (act) {
    case 'relu': return e.reluGrad(dy, z);
    case 'leakyRelu': return e.leakyReluGrad(dy, z, alpha);
    case 'elu': {
      // EluGrad gives dy·exp(z) for z < 0; LeakyReluGrad then scales z ≤ 0 by alpha.
      const t = e.elu(z);
      const g = e.eluGrad(dy, t);
      e.free(t);
      if (alpha === 1) return g;
      const r = e.leakyReluGrad(g, z, alpha);
      e.free(g);
      return r;
    }
    default: return dy;
  }
}

/** `z = act⁻¹(y)` (In-Place ABN). */
function invertActivation(e: Eager, y: H, act: NormActivation, alpha: number): H {
  switch (act) {
    case 'leakyRelu': return e.leakyRelu(y, 1 / alpha);
    case 'elu': {
      // y > 0 ? y : log1p(y / alpha)  =  relu(y) + log1p(min(y / alpha, 0))
      const t = e.mul(y, e.f32([1 / alpha], []));
      const m = e.minimum(t, e.f32([0], []));
      const l = e.log1p(m);
      const r = e.relu(y);
      const z = e.add(r, l);
      e.free(t, m, l, r);
      return z;
    }
    case 'relu': throw new Error('tfjs-norms: relu is not invertible; the backward from the output needs ' +
      'leakyRelu, elu or linear');
    default: return y;
  }
}

/** `dy · act'(z)` read from `y = act(z)`. */
function activationGradFromOutput(e: Eager, dy: H, y: H, act: NormActivation, alpha: number): H {
  switch (act) {
    case 'leakyRelu': return e.leakyReluGrad(dy, y, alpha);
    case 'elu': {
      // y ≤ 0: dy·(y + alpha) = alpha · EluGrad(dy, y/alpha).
      const t = e.mul(y, e.f32([1 / alpha], []));
      const g = e.eluGrad(dy, t);
      e.free(t);
      if (alpha === 1) return g;
      const r = e.leakyReluGrad(g, y, alpha);
      e.free(g);
      return r;
    }
    case 'relu': throw new Error('tfjs-norms: relu is not invertible; the backward from the output needs ' +
      'leakyRelu, elu or linear');
    default: return dy;
  }
}

// ---------------------------------------------------------------------------------------------
// Shifted statistics (the reduction paths)
// ---------------------------------------------------------------------------------------------

/** The view the reduction paths use: `W` (channel form) or `R` (row-column form). */
function workView(e: Eager, x: H, L: NormLayout): H {
  return e.reshape(x, L.rowcol ? L.R : L.W);
}

/** Per-slot values as a tensor broadcastable to the work view. */
function slotTensor(e: Eager, L: NormLayout, values: ArrayLike<number>): H {
  return L.rowcol
    ? e.f32(perSlot(L.v, (s) => values[s]), L.slotShape)
    : e.f32(perChannel(L, (s) => values[s]), L.coefShape);
}

/** The first element of each slot (the contract's `shift`), read from `x`'s work view. */
function slotShift(e: Eager, xw: H, L: NormLayout): Float32Array {
  const {v, P} = L;
  if (L.rowcol) {
    const k = e.slice(xw, L.R.map(() => 0), L.slotShape);
    const values = Float32Array.from(e.read(k));
    e.free(k);
    return values;
  }
  // The first spatial element of every (sample, channel); the slot's is that of its first channel.
  const size = L.W.map((_, i) => (i === 0 ? P : i === L.ca ? v.C : 1));
  const k = e.slice(xw, size.map(() => 0), size);
  const first = e.read(k);
  const shift = new Float32Array(v.slots);
  for (let p = 0; p < P; p++) for (let g = 0; g < v.groups; g++) shift[slotOf(v, p, g * v.cpg)] = first[p * v.C + g * v.cpg];
  e.free(k);
  return shift;
}

export interface SlotStats {
  shift: Float32Array;
  /** Mean − shift (float64). */
  offset: Float64Array;
  /** Biased variance (float64). */
  variance: Float64Array;
  /** What the apply reads: `x` itself or `x − shift`, in the work view (free it with `e.free`). */
  d: H;
  /** The mean of `d` per slot (the full mean for raw `x`, `offset` for `x − shift`). */
  dMean: Float64Array;
}

/** Per-slot mean and biased variance from `Sum(u)` and `EuclideanNorm(u)` over the slots' axes. */
function momentsOf(e: Eager, L: NormLayout, u: H): {mean: Float64Array; variance: Float64Array} {
  const {v} = L;
  const {a: s1, b: s2, index} = partialSums(e, L, u, 'EuclideanNorm');
  const sum1 = new Float64Array(v.slots);
  const sum2 = new Float64Array(v.slots);
  index((i, slot) => {
    sum1[slot] += s1[i];
    sum2[slot] += s2[i] * s2[i];
  });
  const mean = new Float64Array(v.slots);
  const variance = new Float64Array(v.slots);
  for (let s = 0; s < v.slots; s++) {
    const m = sum1[s] / v.count;
    mean[s] = m;
    variance[s] = Math.max(0, sum2[s] / v.count - m * m);
  }
  return {mean, variance};
}

/**
 * Mean and biased variance per slot: `Sum` and `EuclideanNorm` over the spatial axes (rows of
 * the work view where the layout allows: the fastest and most accurate reduction), partial sums
 * merged into slots on the host in float64.
 *
 * On raw `x` first: that is the shifted algorithm with shift 0, exact when every slot's mean is
 * within `RAW_SUMS_LIMIT` standard deviations of 0 (the cancellation in Σx²/n − mean² then loses
 * at most log2(1 + RAW_SUMS_LIMIT²) ≈ 3.3 bits), which is checked on the result. Otherwise (data
 * like 1000 + 0.01·noise) again on `d = x − shift`, with each slot's first element as shift.
 */
export function slotStats(e: Eager, xIn: TensorInfo, L: NormLayout): SlotStats {
  const {v} = L;
  const xw = workView(e, e.input(xIn), L);
  if (nativePaths.rawInputs) {
    const raw = momentsOf(e, L, xw);
    if (rawStatisticsExact(raw.mean, raw.variance, RAW_SUMS_LIMIT)) {
      const shift = slotShift(e, xw, L);
      const offset = new Float64Array(v.slots);
      for (let s = 0; s < v.slots; s++) offset[s] = raw.mean[s] - shift[s];
      return {shift, offset, variance: raw.variance, d: xw, dMean: raw.mean};
    }
  }
  const shift = slotShift(e, xw, L);
  const k = slotTensor(e, L, shift);
  const d = e.sub(xw, k);
  e.free(k, xw);
  const {mean: offset, variance} = momentsOf(e, L, d);
  return {shift, offset, variance, d, dMean: offset};
}

/**
 * `Sum(a)` and `Sum(b)` (or `EuclideanNorm(a)`) per (sample, channel), per slot (row-column),
 * or per channel (batch merged in TensorFlow), with `index(f)` mapping each value to its slot.
 */
function partialSums(e: Eager, L: NormLayout, a: H, second: H | 'EuclideanNorm'):
    {a: Float32Array; b: Float32Array; P: number; index: (f: (i: number, slot: number) => void) => void} {
  const {v} = L;
  let axes: number[];
  let P: number;
  if (L.rowcol) {
    axes = L.rowAxes;
    P = v.N;
  } else {
    // Merge the batch in TensorFlow for BatchNorm unless the spatial axes are rows (fast and
    // accurate) with enough elements per row.
    const rows = L.ca === 1 && L.spatial.length > 0;
    const merge = !v.perSample && (!rows || v.S < 16 || v.N * v.C > 65536);
    axes = merge ? [0, ...L.spatial] : L.spatial;
    P = merge ? 1 : v.N;
  }
  const ra = e.reduce('Sum', a, axes);
  const rb = second === 'EuclideanNorm' ? e.reduce('EuclideanNorm', a, axes) : e.reduce('Sum', second, axes);
  const va = Float32Array.from(e.read(ra));
  const vb = Float32Array.from(e.read(rb));
  e.free(ra, rb);
  const index = (f: (i: number, slot: number) => void) => {
    if (L.rowcol) {
      for (let s = 0; s < v.slots; s++) f(s, s);
    } else {
      for (let p = 0; p < P; p++) for (let c = 0; c < v.C; c++) f(p * v.C + c, slotOf(v, p, c));
    }
  };
  return {a: va, b: vb, P, index};
}

export interface StatsOutputs {
  mean: Float32Array;
  variance: Float32Array;
  shift: Float32Array;
  meanOffset: Float32Array;
}

function statsOutputs(shift: Float32Array, offset: ArrayLike<number>, variance: ArrayLike<number>,
                      mean?: ArrayLike<number>): StatsOutputs {
  const n = shift.length;
  const m = new Float32Array(n);
  for (let i = 0; i < n; i++) m[i] = mean ? mean[i] : shift[i] + offset[i];
  return {mean: m, variance: Float32Array.from(variance), shift, meanOffset: Float32Array.from(offset)};
}

/** `NormsMoments`. */
export function moments(e: Eager, xIn: TensorInfo, L: NormLayout): StatsOutputs {
  const s = slotStats(e, xIn, L);
  return statsOutputs(s.shift, s.offset, s.variance);
}

// ---------------------------------------------------------------------------------------------
// Forward
// ---------------------------------------------------------------------------------------------

let mklLayerNormWorks: boolean | undefined;

/** Whether `_MklLayerNorm` runs here (TensorFlow's oneDNN CPU builds); probed once. */
function mklLayerNormAvailable(e: Eager): boolean {
  if (e.gpu) return false;
  if (mklLayerNormWorks === undefined) {
    try {
      const y = e.read(e.mklLayerNorm(e.f32([1, 3], [1, 2]), e.f32([1, 1], [2]), e.f32([0, 0], [2]), 0));
      mklLayerNormWorks = Math.abs(y[0] + 1) < 1e-6 && Math.abs(y[1] - 1) < 1e-6;
    } catch {
      mklLayerNormWorks = false;
    }
  }
  return mklLayerNormWorks;
}

/** Which native paths the kernels may take (tests force the portable ones). */
export const nativePaths = {
  /** `_MklLayerNorm` for LayerNorm's forward, when the build has it. */
  mklLayerNorm: true,
  /** `FusedBatchNormV3`/`FusedBatchNormGradV3` for BatchNorm (and InstanceNorm, channels first). */
  fusedBatchNorm: true,
  /** ... on channels-first views too: on GPUs only (`'gpu'`), always, or never. */
  fusedBatchNormChannelsFirst: 'gpu' as 'gpu' | boolean,
  /** Raw `x` (no `x − shift` pass) when the statistics allow it (see `RAW_MEAN_LIMIT`). */
  rawInputs: true,
};

/**
 * `y = act((d − offset)·rstd·gamma + beta)` from `d = x − center` in the work view (`center`
 * per slot, `offset` the mean's remainder).
 */
function applyFromCentered(e: Eager, d: H, L: NormLayout, q: Params, offset: ArrayLike<number>,
                           variance: ArrayLike<number>, trainingForward = false): H {
  const {v} = L;
  const p = q.p;
  const r = rstd(variance, p.epsilon);
  let z: H;
  if (L.rowcol) {
    if (trainingForward && v.groups === 1 && nativePaths.mklLayerNorm && mklLayerNormAvailable(e)) {
      // One oneDNN pass: the statistics of d again (two-pass, the same values) and gamma/beta.
      z = e.mklLayerNorm(e.reshape(d, [v.N, v.C]), q.tensor('gamma', [v.C]), q.tensor('beta', [v.C]), p.epsilon);
    } else {
      const c = e.sub(d, slotTensor(e, L, offset));
      const xh = e.mul(c, slotTensor(e, L, r));
      const t = e.mul(xh, q.tensor('gamma', L.chanShape));
      z = e.add(t, q.tensor('beta', L.chanShape));
      e.free(c, xh, t);
    }
  } else {
    // One multiply-add per element with per-(sample, channel) coefficients.
    const gamma = q.gamma;
    const beta = q.beta;
    const A = perChannel(L, (s, c) => gamma[c] * r[s]);
    const B = perChannel(L, (s, c) => beta[c] - offset[s] * gamma[c] * r[s]);
    const t = e.mul(d, e.f32(A, L.coefShape));
    z = e.add(t, e.f32(B, L.coefShape));
    e.free(t);
  }
  return activate(e, z, p.activation, p.alpha);
}

export interface TrainingForward {
  y: H;
  stats: StatsOutputs;
}

/** `NormsNormalizeTraining`: statistics, then the apply. */
export function normalizeTraining(e: Eager, xIn: TensorInfo, L: NormLayout, p: Affine): TrainingForward {
  const q = new Params(e, L, p);
  const plan = fbnPlan(L, e.gpu);
  if (plan !== null) return fusedTraining(e, xIn, L, q, plan);
  const s = slotStats(e, xIn, L);
  const y = applyFromCentered(e, s.d, L, q, s.dMean, s.variance, true);
  e.free(s.d);
  return {y, stats: statsOutputs(s.shift, s.offset, s.variance)};
}

/**
 * `FusedBatchNormV3` in training mode: on raw `x` when its statistics show that is exact, else
 * on `d = x − shift`. Its batch variance output is Bessel-corrected; its reserve spaces differ
 * between devices (the variance on CPUs, cuDNN's inverse standard deviation on GPUs) and are
 * not read.
 */
function fusedTraining(e: Eager, xIn: TensorInfo, L: NormLayout, q: Params, plan: FbnPlan): TrainingForward {
  const {v} = L;
  const p = q.p;
  const x = e.input(xIn);
  const run = (input: H) => {
    const empty = e.f32([], [0]);
    const fbn = e.fusedBatchNorm(e.reshape(input, plan.shape), q.tensor('gamma', [plan.channels], plan.tile),
      q.tensor('beta', [plan.channels], plan.tile), empty, empty, p.epsilon, plan.format, true);
    const m = Float64Array.from(e.read(fbn.batchMean));
    const bv = e.read(fbn.batchVariance);
    const variance = new Float64Array(v.slots);
    for (let s = 0; s < v.slots; s++) variance[s] = bv[s] * (v.count - 1) / v.count;
    e.free(fbn.batchMean, fbn.batchVariance, fbn.reserve1, fbn.reserve2, fbn.reserve3);
    return {y: fbn.y, m, variance};
  };
  if (nativePaths.rawInputs) {
    const raw = run(x);
    if (rawStatisticsExact(raw.m, raw.variance)) {
      const shift = slotShift(e, workView(e, x, L), L);
      const offset = new Float64Array(v.slots);
      for (let s = 0; s < v.slots; s++) offset[s] = raw.m[s] - shift[s];
      return {y: activate(e, raw.y, p.activation, p.alpha), stats: statsOutputs(shift, offset, raw.variance, raw.m)};
    }
    e.free(raw.y);
  }
  const xw = workView(e, x, L);
  const shift = slotShift(e, xw, L);
  const k = slotTensor(e, L, shift);
  const d = e.sub(xw, k);
  e.free(k);
  const r = run(d);
  e.free(d);
  return {y: activate(e, r.y, p.activation, p.alpha), stats: statsOutputs(shift, r.m, r.variance)};
}

/** `NormsApply`: normalization with given statistics (and optional shift). */
export function applyGiven(e: Eager, xIn: TensorInfo, L: NormLayout, p: Affine, mean: Float32Array,
                           variance: Float32Array, shift: Float32Array | null): H {
  const {v} = L;
  const q = new Params(e, L, p);
  const plan = fbnPlan(L, e.gpu);
  if (plan !== null && !v.perSample) {
    // FusedBatchNormV3 in inference mode: (x − mean)·rsqrt(variance + ε)·γ + β per element.
    const u = shift === null ? e.input(xIn) : centered(e, xIn, L, shift);
    const fbn = e.fusedBatchNorm(e.reshape(u, plan.shape), q.tensor('gamma', [v.C]), q.tensor('beta', [v.C]),
      e.f32(mean, [v.C]), e.f32(variance, [v.C]), p.epsilon, plan.format, false);
    e.free(fbn.batchMean, fbn.batchVariance, fbn.reserve1, fbn.reserve2, fbn.reserve3);
    return activate(e, fbn.y, p.activation, p.alpha);
  }
  const d = centered(e, xIn, L, shift ?? mean);
  const y = applyFromCentered(e, d, L, q, shift === null ? new Float64Array(v.slots) : mean, variance);
  e.free(d);
  return y;
}

/** `x − center` per slot, in the work view. */
function centered(e: Eager, xIn: TensorInfo, L: NormLayout, center: ArrayLike<number>): H {
  const c = slotTensor(e, L, center);
  const d = e.sub(workView(e, e.input(xIn), L), c);
  e.free(c);
  return d;
}

// ---------------------------------------------------------------------------------------------
// Backward
// ---------------------------------------------------------------------------------------------

export interface BackwardInputs {
  dy?: TensorInfo;
  x?: TensorInfo;
  y?: TensorInfo;
  mean: Float32Array;
  variance: Float32Array;
  shift: Float32Array | null;
}

export interface BackwardSums {
  sumDz: Float64Array;
  sumDzXhat: Float64Array;
  slotSumDzGamma: Float64Array;
  slotSumDzGammaXhat: Float64Array;
}

export interface DxRequest {
  training: boolean;
  count: number;
  /** Per-slot sums (given, or from `reduce`). */
  slotSumDzGamma: ArrayLike<number> | null;
  slotSumDzGammaXhat: ArrayLike<number> | null;
  dMean: ArrayLike<number> | null;
  dVariance: ArrayLike<number> | null;
}

/**
 * The backward pass on the reduction paths. `u` is what the kernels see of the input:
 * `x − center` (from `x`) or `x̂` itself (from `y`), with `x̂ = (u − mu[slot])·rho[slot]`.
 */
export class Backward {
  readonly u: H;
  readonly dz: H | undefined;
  readonly mu: Float64Array;
  readonly rho: Float64Array;
  readonly r: Float64Array;
  private readonly q: Params;
  private xhatCache: H | undefined;
  private gCache: H | undefined;

  constructor(private readonly e: Eager, readonly L: NormLayout, p: Affine, ins: BackwardInputs) {
    const {v} = L;
    this.q = new Params(e, L, p);
    this.r = rstd(ins.variance, p.epsilon);
    const dy = ins.dy ? workView(e, e.input(ins.dy), L) : undefined;
    if (ins.x !== undefined) {
      // x̂ = (x − mean)·r on raw x when the statistics allow (see RAW_MEAN_LIMIT), else
      // ((x − shift) − meanOffset)·r, or (x − mean)·r with the subtraction first.
      const full = new Float64Array(v.slots);
      for (let s = 0; s < v.slots; s++) full[s] = (ins.shift ? ins.shift[s] : 0) + ins.mean[s];
      if (nativePaths.rawInputs && rawStatisticsExact(full, ins.variance)) {
        this.u = workView(e, e.input(ins.x), L);
        this.mu = full;
      } else {
        this.u = centered(e, ins.x, L, ins.shift ?? ins.mean);
        this.mu = ins.shift === null ? new Float64Array(v.slots) : Float64Array.from(ins.mean);
      }
      this.rho = this.r;
      this.dz = dy && p.activation !== 'linear' ? this.gradThroughActivation(dy) : dy;
    } else if (ins.y !== undefined) {
      // In-Place ABN: z = act⁻¹(y), x̂ = (z − beta)/gamma, act' read from y.
      const y = workView(e, e.input(ins.y), L);
      const z = invertActivation(e, y, p.activation, p.alpha);
      const gamma = this.q.gamma;
      const beta = this.q.beta;
      this.u = this.channelAffine(z, (c) => 1 / gamma[c], (c) => -beta[c] / gamma[c]);
      if (z !== y) e.free(z);
      this.mu = new Float64Array(v.slots);
      this.rho = new Float64Array(v.slots).fill(1);
      this.dz = dy ? activationGradFromOutput(e, dy, y, p.activation, p.alpha) : undefined;
    } else {
      throw new Error('tfjs-norms backward kernels need x or y');
    }
  }

  /** `t·a[c] + b[c]` with per-channel coefficients. */
  private channelAffine(t: H, a: (c: number) => number, b: (c: number) => number): H {
    const {e, L} = this;
    const {v} = L;
    const shape = L.rowcol ? L.chanShape : L.coefShape.map((d, i) => (i === 0 ? 1 : d));
    const A = new Float32Array(v.C);
    const B = new Float32Array(v.C);
    for (let c = 0; c < v.C; c++) {
      A[c] = a(c);
      B[c] = b(c);
    }
    const m = e.mul(t, e.f32(A, shape));
    const r = e.add(m, e.f32(B, shape));
    e.free(m);
    return r;
  }

  /** x̂ as a tensor (row-column form). */
  private xhat(): H {
    if (this.xhatCache) return this.xhatCache;
    const {e, L} = this;
    if (this.mu.every((m) => m === 0) && this.rho.every((r) => r === 1)) {
      this.xhatCache = this.u;
    } else {
      const c = e.sub(this.u, slotTensor(e, L, this.mu));
      this.xhatCache = e.mul(c, slotTensor(e, L, this.rho));
      e.free(c);
    }
    return this.xhatCache;
  }

  /** dz from dy and z recomputed from u. */
  private gradThroughActivation(dy: H): H {
    const {e, L, q} = this;
    let z: H;
    if (L.rowcol) {
      const t = e.mul(this.xhat(), q.tensor('gamma', L.chanShape));
      z = e.add(t, q.tensor('beta', L.chanShape));
      e.free(t);
    } else {
      const gamma = q.gamma;
      const beta = q.beta;
      const A = perChannel(L, (s, c) => gamma[c] * this.rho[s]);
      const B = perChannel(L, (s, c) => beta[c] - this.mu[s] * this.rho[s] * gamma[c]);
      const t = e.mul(this.u, e.f32(A, L.coefShape));
      z = e.add(t, e.f32(B, L.coefShape));
      e.free(t);
    }
    const dz = activationGrad(e, dy, z, q.p.activation, q.p.alpha);
    e.free(z);
    return dz;
  }

  /** Σdz and Σdz·x̂ per channel, Σdz·γ and Σdz·γ·x̂ per slot. */
  reduce(): BackwardSums {
    const {e, L} = this;
    const {v} = L;
    const out: BackwardSums = {
      sumDz: new Float64Array(v.C), sumDzXhat: new Float64Array(v.C),
      slotSumDzGamma: new Float64Array(v.slots), slotSumDzGammaXhat: new Float64Array(v.slots),
    };
    if (this.dz === undefined) return out;
    if (L.rowcol) {
      // g = dz·γ and the column sums in one FusedBatchNormGradV3; the slot sums are rows.
      const {g, sumDz, sumDzXhat} = this.rowcolColumnSums();
      out.sumDz.set(sumDz);
      out.sumDzXhat.set(sumDzXhat);
      const gx = e.mul(g, this.xhat());
      const s = partialSums(e, L, g, gx);
      e.free(gx);
      out.slotSumDzGamma.set(s.a);
      out.slotSumDzGammaXhat.set(s.b);
      return out;
    }
    // Per (sample, channel) sums of dz and dz·u over the spatial axes.
    const gamma = this.q.gamma;
    const dzu = e.mul(this.dz, this.u);
    const s = partialSums(e, L, this.dz, dzu);
    e.free(dzu);
    s.index((i, slot) => {
      const c = i % v.C;
      const a = s.a[i];
      const b = this.rho[slot] * (s.b[i] - this.mu[slot] * a);
      out.sumDz[c] += a;
      out.sumDzXhat[c] += b;
      out.slotSumDzGamma[slot] += gamma[c] * a;
      out.slotSumDzGammaXhat[slot] += gamma[c] * b;
    });
    return out;
  }

  /**
   * Row-column form: `g = dz·γ` and the per-column sums Σdz, Σdz·x̂ in one
   * `FusedBatchNormGradV3` (inference mode, NHWC `[1, N, 1, C]`, mean 0 and variance 1, so that
   * its x̂ is ours).
   */
  private rowcolColumnSums(): {g: H; sumDz: Float32Array; sumDzXhat: Float32Array} {
    const {e, L, q} = this;
    const {v} = L;
    const shape4 = [1, v.N, 1, v.C];
    const fb = e.fusedBatchNormGrad(e.reshape(this.dz!, shape4), e.reshape(this.xhat(), shape4),
      q.tensor('gamma', [v.C]), e.f32(new Float32Array(v.C), [v.C]), e.f32(new Float32Array(v.C).fill(1), [v.C]),
      1e-30, 'NHWC', false);
    const sumDz = Float32Array.from(e.read(fb.offsetGrad));
    const sumDzXhat = Float32Array.from(e.read(fb.scaleGrad));
    e.free(fb.offsetGrad, fb.scaleGrad);
    this.gCache = e.reshape(fb.dx, L.R);
    return {g: this.gCache, sumDz, sumDzXhat};
  }

  /**
   * `dx = dz·γ·r + x̂·k1 + k2`, with `k1 = (−r·Σdzγx̂ + 2·dVariance/r)/count` and
   * `k2 = (−r·Σdzγ + dMean)/count` per slot when training (both 0 otherwise).
   */
  dx(req: DxRequest): H {
    const {e, L, q} = this;
    const {v} = L;
    const k1 = new Float64Array(v.slots);
    const k2 = new Float64Array(v.slots);
    if (req.training) {
      for (let s = 0; s < v.slots; s++) {
        const r = this.r[s];
        const sg = req.slotSumDzGamma ? req.slotSumDzGamma[s] : 0;
        const sgx = req.slotSumDzGammaXhat ? req.slotSumDzGammaXhat[s] : 0;
        const dm = req.dMean ? req.dMean[s] : 0;
        const dv = req.dVariance ? req.dVariance[s] : 0;
        k1[s] = (-r * sgx + 2 * dv / r) / req.count;
        k2[s] = (-r * sg + dm) / req.count;
      }
    }
    let gradPart: H | undefined;
    let statPart: H | undefined;
    if (L.rowcol) {
      if (this.dz !== undefined) {
        const g = this.gCache ?? e.mul(this.dz, q.tensor('gamma', L.chanShape));
        gradPart = e.mul(g, slotTensor(e, L, this.r));
      }
      if (req.training) {
        const t = e.mul(this.xhat(), slotTensor(e, L, k1));
        statPart = e.add(t, slotTensor(e, L, k2));
        e.free(t);
      }
    } else {
      // dx = P·dz + Q·u + K with x̂ = (u − mu)·rho: Q = k1·rho, K = k2 − k1·rho·mu.
      if (this.dz !== undefined) {
        const gamma = q.gamma;
        gradPart = e.mul(this.dz, e.f32(perChannel(L, (s, c) => gamma[c] * this.r[s]), L.coefShape));
      }
      if (req.training) {
        const t = e.mul(this.u, e.f32(perChannel(L, (s) => k1[s] * this.rho[s]), L.coefShape));
        statPart = e.add(t, e.f32(perChannel(L, (s) => k2[s] - k1[s] * this.rho[s] * this.mu[s]), L.coefShape));
        e.free(t);
      }
    }
    if (gradPart && statPart) {
      const dx = e.add(gradPart, statPart);
      e.free(gradPart, statPart);
      return dx;
    }
    return gradPart ?? statPart ?? e.mul(this.u, e.f32([0], []));
  }
}

/**
 * The training backward through `FusedBatchNormGradV3` (training mode), for the views
 * `FusedBatchNormV3` serves, or null. On raw `x` with the full mean when the statistics allow,
 * else on `x − shift` with the mean's remainder. Returns dx, Σdz and Σdz·x̂ per channel.
 */
export function fusedBackwardTraining(
    e: Eager, L: NormLayout, p: Affine, ins: BackwardInputs, dMean: Float32Array | null,
    dVariance: Float32Array | null): {dx: H; sumDz: Float64Array | H; sumDzXhat: Float64Array | H} | null {
  const plan = fbnPlan(L, e.gpu);
  if (plan === null || ins.x === undefined || ins.dy === undefined) return null;
  const {v} = L;
  const q = new Params(e, L, p);
  // The full mean, and whether the raw input can be used with it.
  const full = new Float32Array(v.slots);
  for (let s = 0; s < v.slots; s++) full[s] = ins.shift === null ? ins.mean[s] : ins.shift[s] + ins.mean[s];
  const raw = nativePaths.rawInputs && rawStatisticsExact(full, ins.variance);
  const u = raw ? e.input(ins.x) : centered(e, ins.x, L, ins.shift ?? ins.mean);
  const mu = raw ? full : ins.shift === null ? new Float32Array(v.slots) : ins.mean;
  const u4 = e.reshape(u, plan.shape);
  const gamma = q.tensor('gamma', [plan.channels], plan.tile);
  let dz = e.reshape(e.input(ins.dy), plan.shape);
  if (p.activation !== 'linear') {
    const fbn = e.fusedBatchNorm(u4, gamma, q.tensor('beta', [plan.channels], plan.tile), e.f32(mu, [plan.channels]),
      e.f32(ins.variance, [plan.channels]), p.epsilon, plan.format, false);
    e.free(fbn.batchMean, fbn.batchVariance, fbn.reserve1, fbn.reserve2, fbn.reserve3);
    dz = activationGrad(e, dz, fbn.y, p.activation, p.alpha);
    e.free(fbn.y);
  }
  // The saved statistics the op expects: the batch mean of its x and, on CPUs, the biased
  // variance; cuDNN saves the inverse standard deviation instead.
  const saved2 = e.gpu ? Float32Array.from(rstd(ins.variance, p.epsilon)) : ins.variance;
  const g = e.fusedBatchNormGrad(dz, u4, gamma, e.f32(mu, [plan.channels]), e.f32(saved2, [plan.channels]),
    p.epsilon, plan.format, true);
  let dx = g.dx;
  // The gradient passes zeros when the statistics outputs are unused: skip three full passes.
  if (!allZero(dMean) || !allZero(dVariance)) {
    // + dMean/count + 2·dVariance·(x − mean)/count per slot.
    const uw = e.reshape(u, L.W);
    const Q = perChannel(L, (s) => 2 * (dVariance ? dVariance[s] : 0) / v.count);
    const K = perChannel(L, (s) => ((dMean ? dMean[s] : 0) - 2 * (dVariance ? dVariance[s] : 0) * mu[s]) / v.count);
    const t = e.mul(uw, e.f32(Q, L.coefShape));
    const s = e.add(t, e.f32(K, L.coefShape));
    const sum = e.add(e.reshape(dx, L.W), s);
    e.free(t, s, dx);
    dx = sum;
  }
  if (plan.tile === 1) return {dx, sumDz: g.offsetGrad, sumDzXhat: g.scaleGrad};
  // InstanceNorm: per (sample, channel) sums, merged over the samples on the host.
  const a = e.read(g.offsetGrad);
  const b = e.read(g.scaleGrad);
  const sumDz = new Float64Array(v.C);
  const sumDzXhat = new Float64Array(v.C);
  for (let i = 0; i < a.length; i++) {
    sumDz[i % v.C] += a[i];
    sumDzXhat[i % v.C] += b[i];
  }
  return {dx, sumDz, sumDzXhat};
}
