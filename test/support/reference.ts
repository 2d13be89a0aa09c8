/**
 * A plain float64 reference for every norm (two-pass statistics, textbook backward), written
 * for clarity: one slot index per element, no fusion.
 */
export interface RefSpec {
  /** Statistics slot of element i. */
  slotOf: (i: number) => number;
  /** Channel (index into gamma/beta) of element i. */
  channelOf: (i: number) => number;
  slots: number;
  epsilon: number;
}

export function reference(x: ArrayLike<number>, dy: ArrayLike<number>, gamma: ArrayLike<number>,
                          beta: ArrayLike<number>, spec: RefSpec) {
  const n = x.length;
  const cnt = new Float64Array(spec.slots);
  const mean = new Float64Array(spec.slots);
  const m2 = new Float64Array(spec.slots);
  for (let i = 0; i < n; i++) { cnt[spec.slotOf(i)]++; mean[spec.slotOf(i)] += x[i]; }
  for (let s = 0; s < spec.slots; s++) mean[s] /= cnt[s];
  for (let i = 0; i < n; i++) { const d = x[i] - mean[spec.slotOf(i)]; m2[spec.slotOf(i)] += d * d; }
  const rstd = m2.map((v, s) => 1 / Math.sqrt(v / cnt[s] + spec.epsilon));
  const xhat = new Float64Array(n);
  const y = new Float64Array(n);
  const sg = new Float64Array(spec.slots);
  const sgx = new Float64Array(spec.slots);
  for (let i = 0; i < n; i++) {
    const s = spec.slotOf(i), c = spec.channelOf(i);
    xhat[i] = (x[i] - mean[s]) * rstd[s];
    y[i] = xhat[i] * gamma[c] + beta[c];
    sg[s] += dy[i] * gamma[c];
    sgx[s] += dy[i] * gamma[c] * xhat[i];
  }
  const dx = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = spec.slotOf(i), c = spec.channelOf(i);
    dx[i] = rstd[s] * (dy[i] * gamma[c] - sg[s] / cnt[s] - xhat[i] * sgx[s] / cnt[s]);
  }
  return {y, dx, mean, variance: m2.map((v, s) => v / cnt[s])};
}
