/**
 * Merging per-rank batch statistics: Chan et al.'s parallel formula for (count, mean, M2),
 * applied in rank order so every rank computes bit-identical results.
 */
export interface ChannelStats {
  count: number;
  mean: Float64Array;
  m2: Float64Array;
}

/** Packs `[count, mean (C), M2 (C)]`, the record each rank contributes. */
export function packStats(s: ChannelStats): Float64Array {
  const C = s.mean.length;
  const out = new Float64Array(1 + 2 * C);
  out[0] = s.count;
  out.set(s.mean, 1);
  out.set(s.m2, 1 + C);
  return out;
}

/** Merges the packed records of every rank (in rank order). */
export function mergeStats(records: Float64Array[], C: number): ChannelStats {
  const mean = new Float64Array(C);
  const m2 = new Float64Array(C);
  let count = 0;
  for (const rec of records) {
    const n = rec[0];
    if (n === 0) continue;
    const total = count + n;
    for (let c = 0; c < C; c++) {
      const delta = rec[1 + c] - mean[c];
      mean[c] += delta * (n / total);
      m2[c] += rec[1 + C + c] + delta * delta * (count * n / total);
    }
    count = total;
  }
  return {count, mean, m2};
}

/** `(hi, lo)` float32 pair with `hi + lo` ≈ `v` to float64 precision: the kernels' exact mean. */
export function splitMean(mean: Float64Array): {shift: Float32Array; offset: Float32Array} {
  const shift = Float32Array.from(mean);
  const offset = new Float32Array(mean.length);
  for (let i = 0; i < mean.length; i++) offset[i] = mean[i] - shift[i];
  return {shift, offset};
}
