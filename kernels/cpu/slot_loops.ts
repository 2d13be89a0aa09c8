/**
 * Forward loops for views whose statistics slots are contiguous blocks of `x` (slot `s` is
 * `x[s·count, (s+1)·count)`): LayerNorm rows, InstanceNorm and GroupNorm with channels first,
 * GroupNorm on `[N, C]`. Each slot is normalized while it is in cache: one pass for its shifted
 * sums, one for the output, and no per-sample coefficient tables (which cost O(C) per row, as
 * much as the row itself when S = 1).
 */
import type {NormView} from '../../src/norm_view.js';
import {activationFn, type ActivationSpec, type Moments} from './norm_loops.js';

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

/**
 * `y = act((x − m)·r·gamma + beta)` over slot `slot`: per element for S = 1 (the channel changes
 * every element), else one multiply-add per element with the channel's scale and shift.
 */
function applySlot(x: Float32Array, y: Float32Array, v: NormView, slot: number, m: number, r: number,
                   g: Float32Array, b: Float32Array, f: ((z: number) => number) | null): void {
  const {S, cpg, count} = v;
  const start = slot * count;
  const c0 = (slot % v.groups) * cpg;
  if (S === 1) {
    if (f === null) {
      for (let j = 0, i = start; j < cpg; j++, i++) y[i] = (x[i] - m) * r * g[c0 + j] + b[c0 + j];
    } else {
      for (let j = 0, i = start; j < cpg; j++, i++) y[i] = f((x[i] - m) * r * g[c0 + j] + b[c0 + j]);
    }
    return;
  }
  for (let j = 0, i = start; j < cpg; j++) {
    const sc = r * g[c0 + j];
    const sh = b[c0 + j] - m * sc;
    const end = i + S;
    if (f === null) {
      for (; i < end; i++) y[i] = x[i] * sc + sh;
    } else {
      for (; i < end; i++) y[i] = f(x[i] * sc + sh);
    }
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
    // Two accumulators each: the adds of one chain wait for each other, two chains overlap.
    let s1 = 0, s2 = 0, t1 = 0, t2 = 0;
    let i = start;
    for (; i + 1 < end; i += 2) {
      const d = x[i] - k, e = x[i + 1] - k;
      s1 += d;
      s2 += d * d;
      t1 += e;
      t2 += e * e;
    }
    if (i < end) {
      const d = x[i] - k;
      s1 += d;
      s2 += d * d;
    }
    s1 += t1;
    s2 += t2;
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
 * Batch statistics and output in one sweep over the slots (the fused training forward): each
 * slot's sums, then its output while it is still in cache.
 */
export function normalizeSlots(x: Float32Array, p: SlotParams, y: Float32Array): Moments {
  const {v, epsilon} = p;
  const g = p.gamma ?? filled(v.C, 1);
  const b = p.beta ?? filled(v.C, 0);
  const f = activationFn(p);
  const out = new SlotMoments(v.slots);
  for (let slot = 0; slot < v.slots; slot++) {
    const m = out.record(x, slot, v.count);
    applySlot(x, y, v, slot, m, 1 / Math.sqrt(out.variance[slot] + epsilon), g, b, f);
  }
  return out;
}

/** `apply` (norm_loops.ts) for contiguous slots: given slot means (float64) and variances. */
export function applySlots(x: Float32Array, p: SlotParams & {mean: Float64Array; variance: Float32Array},
                           y: Float32Array): void {
  const {v, epsilon, mean, variance} = p;
  const g = p.gamma ?? filled(v.C, 1);
  const b = p.beta ?? filled(v.C, 0);
  const f = activationFn(p);
  for (let slot = 0; slot < v.slots; slot++) {
    applySlot(x, y, v, slot, mean[slot], 1 / Math.sqrt(variance[slot] + epsilon), g, b, f);
  }
}
