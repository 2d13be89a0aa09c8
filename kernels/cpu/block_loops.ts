/**
 * The elementwise loops of the forwards on typed arrays, written for what V8's optimizing
 * compiler makes of them.
 *
 * In V8's optimized code, the first access to a typed array in each trip of a loop re-checks the
 * array's map and reloads its length and data pointer (the loop's interrupt check discards what
 * the compiler knew); further accesses to the same array in the same trip cost only the bounds
 * check and the load or store, and the float arithmetic is nearly free. So these loops touch
 * each array once per trip for several elements:
 *
 * - rows of channels (S = 1: LayerNorm, RMSNorm, GroupNorm on `[N, C]`), where every element
 *   needs its channel's gamma (and beta) as well as `x`: `ROWS` rows at a time, gamma and beta
 *   read once per column for all of them (four arrays per element become two plus 2 / ROWS);
 * - channels last with spatial positions (`[N, S, C]`), where every element needs its channel's
 *   scale and shift: `ROWS` positions at a time, the same way;
 * - one channel's contiguous block (channels first): four elements per trip.
 *
 * The rows of a block are in cache when they are written: their statistics were just taken.
 */

/** Rows normalized together by the blocked loops. */
export const ROWS = 4;

/**
 * `y = (x − m)·r·g[c] + b[c]` over the row `[o, o + len)`, channel `c0 + j` at element `o + j`.
 */
export function normalizeRow(x: Float32Array, y: Float32Array, o: number, len: number, c0: number, m: number,
                             r: number, g: Float32Array, b: Float32Array): void {
  for (let j = 0, i = o, c = c0; j < len; j++, i++, c++) y[i] = (x[i] - m) * r * g[c] + b[c];
}

/**
 * `normalizeRow` over the `ROWS` rows at `o`, `o + stride`, `o + 2·stride`, `o + 3·stride` with
 * means `m0…m3` and reciprocal deviations `r0…r3`: gamma and beta read once per column.
 */
export function normalizeRows(x: Float32Array, y: Float32Array, o: number, stride: number, len: number, c0: number,
                              m0: number, m1: number, m2: number, m3: number,
                              r0: number, r1: number, r2: number, r3: number, g: Float32Array, b: Float32Array): void {
  const o1 = o + stride, o2 = o1 + stride, o3 = o2 + stride;
  for (let j = 0; j < len; j++) {
    const gc = g[c0 + j], bc = b[c0 + j];
    y[o + j] = (x[o + j] - m0) * r0 * gc + bc;
    y[o1 + j] = (x[o1 + j] - m1) * r1 * gc + bc;
    y[o2 + j] = (x[o2 + j] - m2) * r2 * gc + bc;
    y[o3 + j] = (x[o3 + j] - m3) * r3 * gc + bc;
  }
}

/** `y = x · r · g[j]` over the row `[o, o + len)` (RMSNorm). */
export function scaleRow(x: Float32Array, y: Float32Array, o: number, len: number, r: number, g: Float32Array): void {
  for (let j = 0, i = o; j < len; j++, i++) y[i] = x[i] * r * g[j];
}

/** `scaleRow` over the `ROWS` consecutive rows at `o` with factors `r0…r3`: gamma read once per column. */
export function scaleRows(x: Float32Array, y: Float32Array, o: number, len: number,
                          r0: number, r1: number, r2: number, r3: number, g: Float32Array): void {
  const o1 = o + len, o2 = o1 + len, o3 = o2 + len;
  for (let j = 0; j < len; j++) {
    const gc = g[j];
    y[o + j] = x[o + j] * r0 * gc;
    y[o1 + j] = x[o1 + j] * r1 * gc;
    y[o2 + j] = x[o2 + j] * r2 * gc;
    y[o3 + j] = x[o3 + j] * r3 * gc;
  }
}

/** `y = x·sc + sh` over `[start, end)`: one channel's block, normalization and affine folded. */
export function scaleShift(x: Float32Array, y: Float32Array, start: number, end: number, sc: number, sh: number): void {
  let i = start;
  for (const end4 = end - 3; i < end4; i += 4) {
    y[i] = x[i] * sc + sh;
    y[i + 1] = x[i + 1] * sc + sh;
    y[i + 2] = x[i + 2] * sc + sh;
    y[i + 3] = x[i + 3] * sc + sh;
  }
  for (; i < end; i++) y[i] = x[i] * sc + sh;
}

/**
 * `y = x·scale[c] + shift[c]` over `S` positions of `C` channels from `start` (channels last),
 * `ROWS` positions per trip.
 */
export function scaleShiftColumns(x: Float32Array, y: Float32Array, start: number, S: number, C: number,
                                  scale: Float64Array, shift: Float64Array): void {
  let s = 0, i = start;
  for (; s + ROWS <= S; s += ROWS, i += ROWS * C) {
    const i1 = i + C, i2 = i1 + C, i3 = i2 + C;
    for (let c = 0; c < C; c++) {
      const sc = scale[c], sh = shift[c];
      y[i + c] = x[i + c] * sc + sh;
      y[i1 + c] = x[i1 + c] * sc + sh;
      y[i2 + c] = x[i2 + c] * sc + sh;
      y[i3 + c] = x[i3 + c] * sc + sh;
    }
  }
  for (; s < S; s++, i += C) {
    for (let c = 0; c < C; c++) y[i + c] = x[i + c] * scale[c] + shift[c];
  }
}

/**
 * Adds the shifted sums `Σ (x − k[c])` and `Σ (x − k[c])²` of `S` positions of `C` channels from
 * `start` (channels last) into `s1[c]`, `s2[c]`, `ROWS` positions per trip.
 */
export function columnSums(x: Float32Array, start: number, S: number, C: number, k: Float64Array,
                           s1: Float64Array, s2: Float64Array): void {
  let s = 0, i = start;
  for (; s + ROWS <= S; s += ROWS, i += ROWS * C) {
    const i1 = i + C, i2 = i1 + C, i3 = i2 + C;
    for (let c = 0; c < C; c++) {
      const kc = k[c];
      const d0 = x[i + c] - kc, d1 = x[i1 + c] - kc, d2 = x[i2 + c] - kc, d3 = x[i3 + c] - kc;
      s1[c] += (d0 + d1) + (d2 + d3);
      s2[c] += (d0 * d0 + d1 * d1) + (d2 * d2 + d3 * d3);
    }
  }
  for (; s < S; s++, i += C) {
    for (let c = 0; c < C; c++) {
      const d = x[i + c] - k[c];
      s1[c] += d;
      s2[c] += d * d;
    }
  }
}
