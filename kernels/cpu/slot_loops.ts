/**
 * Forward loops for views whose statistics slots are contiguous blocks of `x` (slot `s` is
 * `x[s·count, (s+1)·count)`): LayerNorm rows, InstanceNorm and GroupNorm with channels first,
 * GroupNorm on `[N, C]`. Each slot is normalized while it is in cache: one pass for its shifted
 * sums, one for the output, and no per-sample coefficient tables (which cost O(C) per row, as
 * much as the row itself when S = 1).
 */
import type {NormView} from '../../src/norm_view.js';
import {activationFn, type ActivationSpec, type Moments} from './norm_loops.js';
import {normalizeRow, normalizeRows, ROWS, scaleShift} from './block_loops.js';

/** Whether slot `s` of `v` is the block `[s·count, (s+1)·count)` of `x`. */
export function contiguousSlots(v: NormView): boolean {
  return v.perSample && (!v.channelsLast || v.S === 1);
}

export interface SlotParams extends ActivationSpec {
  v: NormView;
  gamma: Float32Array | null;
  beta: Float32Array | null;
  epsilon: number;
}

function filled(n: number, fill: number): Float32Array {
  return new Float32Array(n).fill(fill);
}

/** `y = act((x − m)·r·gamma + beta)` over slot `slot` with an activation (not the hot path). */
function applySlotActivated(x: Float32Array, y: Float32Array, v: NormView, slot: number, m: number, r: number,
                            g: Float32Array, b: Float32Array, f: (z: number) => number): void {
  const {S, cpg, count} = v;
  const c0 = (slot % v.groups) * cpg;
  for (let j = 0, i = slot * count; j < cpg; j++) {
    const sc = r * g[c0 + j];
    const sh = b[c0 + j] - m * sc;
    for (const end = i + S; i < end; i++) y[i] = f(x[i] * sc + sh);
  }
}

/**
 * `y = act((x − m)·r·gamma + beta)` over slot `slot`. Without an activation (the common case) the
 * loops are monomorphic and call nothing per element: for S = 1 (the channel changes every
 * element: LayerNorm rows, channels-last GroupNorm on `[N, C]`) one subtract and two multiply-adds
 * per element; else the channel's scale `r·gamma` and shift `beta − m·scale` once per channel and
 * one multiply-add per element.
 */
function applySlot(x: Float32Array, y: Float32Array, v: NormView, slot: number, m: number, r: number,
                   g: Float32Array, b: Float32Array, f: ((z: number) => number) | null): void {
  if (f !== null) {
    applySlotActivated(x, y, v, slot, m, r, g, b, f);
    return;
  }
  const {S, cpg, count} = v;
  const start = slot * count;
  const c0 = (slot % v.groups) * cpg;
  if (S === 1) {
    normalizeRow(x, y, start, cpg, c0, m, r, g, b);
    return;
  }
  for (let j = 0, i = start; j < cpg; j++, i += S) {
    const sc = r * g[c0 + j];
    scaleShift(x, y, i, i + S, sc, b[c0 + j] - m * sc);
  }
}

/** Statistics of every slot, filled in by `record`. */
class SlotMoments implements Moments {
  readonly exactMean: Float64Array;
  readonly variance: Float32Array;
  readonly shift: Float32Array;
  readonly meanOffset: Float32Array;

  constructor(slots: number) {
    this.exactMean = new Float64Array(slots);
    this.variance = new Float32Array(slots);
    this.shift = new Float32Array(slots);
    this.meanOffset = new Float32Array(slots);
  }

  /**
   * Shifted sums of slot `slot` (shift = its first element; as `moments` in norm_loops.ts),
   * recorded; returns the slot's mean in float64.
   */
  record(x: Float32Array, slot: number, count: number): number {
    const start = slot * count, end = start + count;
    const k = count > 0 ? x[start] : 0;
    // Four accumulators each: the adds of one chain wait for each other (float64 add latency),
    // four chains overlap.
    let s1 = 0, s2 = 0, t1 = 0, t2 = 0, u1 = 0, u2 = 0, w1 = 0, w2 = 0;
    let i = start;
    for (const end4 = end - 3; i < end4; i += 4) {
      const d = x[i] - k, e = x[i + 1] - k, f = x[i + 2] - k, h = x[i + 3] - k;
      s1 += d;
      s2 += d * d;
      t1 += e;
      t2 += e * e;
      u1 += f;
      u2 += f * f;
      w1 += h;
      w2 += h * h;
    }
    for (; i < end; i++) {
      const d = x[i] - k;
      s1 += d;
      s2 += d * d;
    }
    s1 += t1 + u1 + w1;
    s2 += t2 + u2 + w2;
    const mo = s1 / count;
    this.shift[slot] = k;
    this.meanOffset[slot] = mo;
    this.variance[slot] = Math.max(0, s2 / count - mo * mo);
    return this.exactMean[slot] = k + mo;
  }

  get mean(): Float32Array {
    return Float32Array.from(this.exactMean);
  }
}

/** `moments` (norm_loops.ts) for contiguous slots. */
export function slotMoments(x: Float32Array, v: NormView): Moments {
  const out = new SlotMoments(v.slots);
  for (let slot = 0; slot < v.slots; slot++) out.record(x, slot, v.count);
  return out;
}

/**
 * Slot `slot`'s output given the slots' means (float64) and variances, `k` slots at a time
 * (`slot`, `slot + groups`, …: the same group in consecutive samples) where the blocked row loop
 * applies: S = 1 without an activation (see block_loops.ts).
 */
function applySlotBlock(x: Float32Array, y: Float32Array, v: NormView, slot: number, k: number, mean: Float64Array,
                        variance: Float32Array, epsilon: number, g: Float32Array, b: Float32Array,
                        f: ((z: number) => number) | null): void {
  const rstd = (s: number) => 1 / Math.sqrt(variance[s] + epsilon);
  if (k === ROWS && v.S === 1 && f === null) {
    const {groups: G, cpg, count} = v;
    const s1 = slot + G, s2 = s1 + G, s3 = s2 + G;
    normalizeRows(x, y, slot * count, G * count, cpg, (slot % G) * cpg, mean[slot], mean[s1], mean[s2], mean[s3],
        rstd(slot), rstd(s1), rstd(s2), rstd(s3), g, b);
    return;
  }
  for (let q = 0, s = slot; q < k; q++, s += v.groups) applySlot(x, y, v, s, mean[s], rstd(s), g, b, f);
}

/**
 * Visits the slots in blocks: `visit(slot, k)` for the `k ≤ ROWS` slots `slot + q·groups` (one
 * group, consecutive samples), every slot once.
 */
function forEachBlock(v: NormView, visit: (slot: number, k: number) => void): void {
  const samples = v.groups > 0 ? v.slots / v.groups : 0;
  for (let n = 0; n < samples; n += ROWS) {
    const k = Math.min(ROWS, samples - n);
    for (let grp = 0; grp < v.groups; grp++) visit(n * v.groups + grp, k);
  }
}

/**
 * Batch statistics and output in one sweep over the slots (the fused training forward): each
 * block's sums, then its output while it is still in cache.
 */
export function normalizeSlots(x: Float32Array, p: SlotParams, y: Float32Array): Moments {
  const {v, epsilon} = p;
  const g = p.gamma ?? filled(v.C, 1);
  const b = p.beta ?? filled(v.C, 0);
  const f = activationFn(p);
  const out = new SlotMoments(v.slots);
  forEachBlock(v, (slot, k) => {
    for (let q = 0, s = slot; q < k; q++, s += v.groups) out.record(x, s, v.count);
    applySlotBlock(x, y, v, slot, k, out.exactMean, out.variance, epsilon, g, b, f);
  });
  return out;
}

/** `apply` (norm_loops.ts) for contiguous slots: given slot means (float64) and variances. */
export function applySlots(x: Float32Array, p: SlotParams & {mean: Float64Array; variance: Float32Array},
                           y: Float32Array): void {
  const {v, epsilon, mean, variance} = p;
  const g = p.gamma ?? filled(v.C, 1);
  const b = p.beta ?? filled(v.C, 0);
  const f = activationFn(p);
  forEachBlock(v, (slot, k) => applySlotBlock(x, y, v, slot, k, mean, variance, epsilon, g, b, f));
}
