/**
 * RMSNorm's loops on plain typed arrays over the `[rows, D]` view (no backend specifics, so
 * the wasm kernels run them on views of their heap). Sums in float64, results rounded once.
 * Outputs may be passed in (e.g. wasm heap views); otherwise they are allocated.
 */
import {ROWS, scaleRow, scaleRows} from './block_loops.js';

/** `Σ x²` over `[start, end)` in float64, with four accumulators (their adds overlap). */
function sumSquares(x: Float32Array, start: number, end: number): number {
  let a = 0, b = 0, c = 0, d = 0;
  let i = start;
  for (const end4 = end - 3; i < end4; i += 4) {
    const p = x[i], q = x[i + 1], r = x[i + 2], s = x[i + 3];
    a += p * p;
    b += q * q;
    c += r * r;
    d += s * s;
  }
  for (; i < end; i++) a += x[i] * x[i];
  return (a + b) + (c + d);
}

/**
 * `invRms = (Σx²/D + eps)^-1/2` per row and `y = x · invRms · gamma`, `ROWS` rows at a time
 * (block_loops.ts): their sums, then their output while they are still in cache.
 */
export function rmsNormForward(
    x: Float32Array, gamma: Float32Array, rows: number, D: number, epsilon: number,
    y: Float32Array = new Float32Array(rows * D), invRms: Float32Array = new Float32Array(rows)): {y: Float32Array; invRms: Float32Array} {
  const inv = (o: number) => 1 / Math.sqrt(sumSquares(x, o, o + D) / D + epsilon);
  let r = 0;
  for (; r + ROWS <= rows; r += ROWS) {
    const o = r * D;
    const i0 = inv(o), i1 = inv(o + D), i2 = inv(o + 2 * D), i3 = inv(o + 3 * D);
    invRms[r] = i0;
    invRms[r + 1] = i1;
    invRms[r + 2] = i2;
    invRms[r + 3] = i3;
    scaleRows(x, y, o, D, i0, i1, i2, i3, gamma);
  }
  for (; r < rows; r++) {
    const i0 = inv(r * D);
    invRms[r] = i0;
    scaleRow(x, y, r * D, D, i0, gamma);
  }
  return {y, invRms};
}

/**
 * With `g = dy · gamma`, `x̂ = x · invRms`: `dx = invRms · (g − x̂ · Σ(g·x̂)/D)` and
 * `dgamma = Σ_rows dy · x̂`. `invRms` is the forward's (float32) output.
 */
export function rmsNormBackward(
    dy: Float32Array, x: Float32Array, invRms: Float32Array, gamma: Float32Array, rows: number, D: number,
    dx: Float32Array = new Float32Array(rows * D), dgamma: Float32Array = new Float32Array(D)): {dx: Float32Array; dgamma: Float32Array} {
  const dg = new Float64Array(D);
  for (let r = 0, o = 0; r < rows; r++, o += D) {
    const inv = invRms[r];
    let s = 0;
    for (let j = 0; j < D; j++) s += dy[o + j] * gamma[j] * x[o + j];
    // Σ g·x̂ / D = inv · Σ g·x / D, and dx = inv·g − x·inv³·Σ(g·x)/D.
    const k = inv * inv * inv * s / D;
    for (let j = 0; j < D; j++) {
      const xi = x[o + j];
      const d = dy[o + j];
      dx[o + j] = inv * d * gamma[j] - xi * k;
      dg[j] += d * xi * inv;
    }
  }
  for (let j = 0; j < D; j++) dgamma[j] = dg[j];
  return {dx, dgamma};
}
