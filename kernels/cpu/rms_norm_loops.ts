/**
 * RMSNorm's loops on plain typed arrays over the `[rows, D]` view (no backend specifics, so
 * the wasm kernels run them on views of their heap). Sums in float64, results rounded once.
 * Outputs may be passed in (e.g. wasm heap views); otherwise they are allocated.
 */

/** `invRms = (Σx²/D + eps)^-1/2` per row and `y = x · invRms · gamma`. */
export function rmsNormForward(
    x: Float32Array, gamma: Float32Array, rows: number, D: number, epsilon: number,
    y: Float32Array = new Float32Array(rows * D), invRms: Float32Array = new Float32Array(rows)): {y: Float32Array; invRms: Float32Array} {
  for (let r = 0, o = 0; r < rows; r++, o += D) {
    let sq = 0;
    for (let i = o; i < o + D; i++) sq += x[i] * x[i];
    const inv = 1 / Math.sqrt(sq / D + epsilon);
    invRms[r] = inv;
    for (let j = 0; j < D; j++) y[o + j] = x[o + j] * inv * gamma[j];
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
