/**
 * Per-slot statistics on the reduction paths: `Sum` and `EuclideanNorm` over the slots' axes,
 * merged on the host in float64, on raw `x` when exact and on `x − shift` otherwise.
 */
import type {TensorInfo} from '@tensorflow/tfjs-core';
import {perChannel, perSlot, slotOf, type NormLayout} from './layout.js';
import {nativePaths, RAW_SUMS_LIMIT, rawStatisticsExact} from './paths.js';
import type {Eager, H} from './tf_exec.js';

/** The view the reduction paths use: `W` (channel form) or `R` (row-column form). */
export function workView(e: Eager, x: H, L: NormLayout): H {
  return e.reshape(x, L.rowcol ? L.R : L.W);
}

/** Per-slot values as a tensor broadcastable to the work view. */
export function slotTensor(e: Eager, L: NormLayout, values: ArrayLike<number>): H {
  return L.rowcol
    ? e.f32(perSlot(L.v, (s) => values[s]), L.slotShape)
    : e.f32(perChannel(L, (s) => values[s]), L.coefShape);
}

/**
 * The shift of raw sums: the mean rounded to float32, the remainder as offset. The raw path is
 * taken only where the float32 mean is exact enough for x̂, so no first element is read (a
 * `Slice`, ~15 µs a call).
 */
export function meanShift(mean: ArrayLike<number>): {shift: Float32Array; offset: Float64Array} {
  const shift = new Float32Array(mean.length);
  const offset = new Float64Array(mean.length);
  for (let s = 0; s < mean.length; s++) {
    shift[s] = mean[s];
    offset[s] = mean[s] - shift[s];
  }
  return {shift, offset};
}

/** The first element of each slot (the contract's `shift`), read from `x`'s work view. */
export function slotShift(e: Eager, xw: H, L: NormLayout): Float32Array {
  const {v, P} = L;
  if (L.rowcol) {
    const k = e.slice(xw, L.R.map(() => 0), L.slotShape);
    const values = e.read(k);
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
export function momentsOf(e: Eager, L: NormLayout, u: H): {mean: Float64Array; variance: Float64Array} {
  const {v} = L;
  const {a: s1, b: s2, P} = partialSums(e, L, u, 'EuclideanNorm');
  const mean = new Float64Array(v.slots);
  const variance = new Float64Array(v.slots);
  forEachPartial(L, P, (i, slot) => {
    mean[slot] += s1[i];
    variance[slot] += s2[i] * s2[i];
  });
  for (let s = 0; s < v.slots; s++) {
    const m = mean[s] / v.count;
    mean[s] = m;
    variance[s] = Math.max(0, variance[s] / v.count - m * m);
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
  const xw = workView(e, e.input(xIn), L);
  if (nativePaths.rawInputs) {
    const raw = momentsOf(e, L, xw);
    if (rawStatisticsExact(raw.mean, raw.variance, RAW_SUMS_LIMIT)) {
      return {...meanShift(raw.mean), variance: raw.variance, d: xw, dMean: raw.mean};
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
 * or per channel (batch merged in TensorFlow, `P` = 1); `forEachPartial` maps each value to its slot.
 */
export function partialSums(e: Eager, L: NormLayout, a: H, second: H | 'EuclideanNorm'):
    {a: Float32Array; b: Float32Array; P: number} {
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
  const va = e.read(ra);
  const vb = e.read(rb);
  e.free(ra, rb);
  return {a: va, b: vb, P};
}

/** Calls `f(i, slot)` for each value `i` of `partialSums`' results. */
export function forEachPartial(L: NormLayout, P: number, f: (i: number, slot: number) => void): void {
  const {v} = L;
  if (L.rowcol) {
    for (let s = 0; s < v.slots; s++) f(s, s);
  } else {
    for (let p = 0; p < P; p++) for (let c = 0; c < v.C; c++) f(p * v.C + c, slotOf(v, p, c));
  }
}

export interface StatsOutputs {
  mean: Float32Array;
  variance: Float32Array;
  shift: Float32Array;
  meanOffset: Float32Array;
}

export function statsOutputs(shift: Float32Array, offset: ArrayLike<number>, variance: ArrayLike<number>,
                      mean?: ArrayLike<number>): StatsOutputs {
  const n = shift.length;
  const m = new Float32Array(n);
  for (let i = 0; i < n; i++) m[i] = mean ? mean[i] : shift[i] + offset[i];
  return {mean: m, variance: new Float32Array(variance), shift, meanOffset: new Float32Array(offset)};
}

/** `NormsMoments`. */
export function moments(e: Eager, xIn: TensorInfo, L: NormLayout): StatsOutputs {
  const s = slotStats(e, xIn, L);
  return statsOutputs(s.shift, s.offset, s.variance);
}
