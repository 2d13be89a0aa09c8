/**
 * The forward loops that do several rows or positions per trip (kernels/cpu/block_loops.ts, via
 * slot_loops.ts, norm_loops.ts and rms_norm_loops.ts) against a plain two-pass float64
 * reference, on shapes whose row and position counts are and are not multiples of the block.
 */
import {apply, moments, slotMeans} from '../../kernels/cpu/norm_loops.js';
import {rmsNormForward} from '../../kernels/cpu/rms_norm_loops.js';
import {applySlots, contiguousSlots, normalizeSlots} from '../../kernels/cpu/slot_loops.js';
import type {NormViewAttrs} from '../../src/kernel_names.js';
import {normView, type NormView} from '../../src/norm_view.js';

const EPS = 1e-5;

function values(n: number, seed: number, offset = 0): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    out[i] = offset + (s / 2147483648) * 4 - 2;
  }
  return out;
}

/** Index into `x` of (sample n, channel c, position s). */
function at(v: NormView, n: number, c: number, s: number): number {
  return v.channelsLast ? (n * v.S + s) * v.C + c : (n * v.C + c) * v.S + s;
}

/** Every element's slot, and two-pass float64 statistics per slot. */
function reference(x: Float32Array, v: NormView): {slotOf: Int32Array; mean: Float64Array; variance: Float64Array} {
  const slotOf = new Int32Array(x.length);
  for (let n = 0; n < v.N; n++) {
    for (let c = 0; c < v.C; c++) {
      for (let s = 0; s < v.S; s++) slotOf[at(v, n, c, s)] = (v.perSample ? n * v.groups : 0) + Math.floor(c / v.cpg);
    }
  }
  const mean = new Float64Array(v.slots), variance = new Float64Array(v.slots);
  x.forEach((xi, i) => { mean[slotOf[i]] += xi / v.count; });
  x.forEach((xi, i) => { variance[slotOf[i]] += (xi - mean[slotOf[i]]) ** 2 / v.count; });
  return {slotOf, mean, variance};
}

function expected(x: Float32Array, v: NormView, mean: ArrayLike<number>, variance: ArrayLike<number>,
                  slotOf: Int32Array, g: Float32Array, b: Float32Array): Float64Array {
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = v.channelsLast ? i % v.C : Math.floor(i / v.S) % v.C;
    const slot = slotOf[i];
    y[i] = (x[i] - mean[slot]) / Math.sqrt(variance[slot] + EPS) * g[c] + b[c];
  }
  return y;
}

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 2e-5): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
  expect(worst).toBeLessThan(tol);
}

const linear = {activation: 'linear' as const, alpha: 0};

// [shape, view]: LayerNorm rows (S = 1), GroupNorm on [N, C] (S = 1, groups > 1), InstanceNorm and
// GroupNorm channels first, BatchNorm / InstanceNorm / GroupNorm channels last with S positions.
const CASES: [number[], NormViewAttrs][] = [
  [[1, 5], {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 1, perSample: true}],
  [[4, 8], {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 1, perSample: true}],
  [[3, 3, 7], {layout: 'NSC', batchAxes: 2, channelAxes: 1, groups: 1, perSample: true}],
  [[6, 8], {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 2, perSample: true}],
  [[9, 6], {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 3, perSample: true}],
  [[2, 4, 5], {layout: 'NCS', batchAxes: 1, channelAxes: 1, groups: 4, perSample: true}],
  [[3, 4, 9], {layout: 'NCS', batchAxes: 1, channelAxes: 1, groups: 2, perSample: true}],
  [[3, 7, 5], {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 5, perSample: false}],
  [[2, 8, 3], {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 3, perSample: true}],
  [[2, 6, 4], {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 1, perSample: true}],
  [[5, 3], {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: 3, perSample: false}],
];

describe.each(CASES)('x of shape %j, view %j', (shape, attrs) => {
  const v = normView(shape, attrs);
  const x = values(shape.reduce((a, d) => a * d, 1), 7, 1000);
  const g = values(v.C, 11), b = values(v.C, 13);
  const ref = reference(x, v);
  const want = expected(x, v, ref.mean, ref.variance, ref.slotOf, g, b);
  const params = {v, gamma: g, beta: b, epsilon: EPS, ...linear};

  test('statistics (shifted sums) match the two-pass reference, x around 1000', () => {
    const m = moments(x, v);
    expectClose(m.exactMean, ref.mean, 1e-9);
    expectClose(m.variance, ref.variance, 1e-5);
  });

  test('apply with given statistics matches the reference', () => {
    const mean = Float64Array.from(ref.mean), variance = Float32Array.from(ref.variance);
    const y = new Float32Array(x.length);
    apply(x, {...params, mean, variance}, y);
    expectClose(y, expected(x, v, mean, variance, ref.slotOf, g, b));
    if (contiguousSlots(v)) {
      const y2 = new Float32Array(x.length);
      applySlots(x, {...params, mean: slotMeans(Float32Array.from(mean), null), variance}, y2);
      expectClose(y2, expected(x, v, Float32Array.from(mean), variance, ref.slotOf, g, b));
    }
  });

  // The fused training forward takes the contiguous views only (norm_kernels.ts).
  if (contiguousSlots(v)) {
    test('the fused training forward matches the reference', () => {
    const y = new Float32Array(x.length);
    const m = normalizeSlots(x, params, y);
    expectClose(y, want, 1e-4);
    expectClose(m.exactMean, ref.mean, 1e-9);
    });
  }
});

test.each([[1, 5], [4, 8], [6, 3], [9, 7]])('rmsNormForward on [%i, %i] matches the reference', (rows, D) => {
  const x = values(rows * D, 3), g = values(D, 5);
  const {y, invRms} = rmsNormForward(x, g, rows, D, EPS);
  const want = new Float64Array(rows * D);
  for (let r = 0; r < rows; r++) {
    let sq = 0;
    for (let j = 0; j < D; j++) sq += x[r * D + j] ** 2;
    const inv = 1 / Math.sqrt(sq / D + EPS);
    expect(invRms[r]).toBeCloseTo(inv, 5);
    for (let j = 0; j < D; j++) want[r * D + j] = x[r * D + j] * inv * g[j];
  }
  expectClose(y, want);
});
