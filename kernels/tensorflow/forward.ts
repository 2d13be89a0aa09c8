/** The forward kernels' computations: training (batch statistics) and the apply with given ones. */
import type {TensorInfo} from '@tensorflow/tfjs-core';
import {activate} from './activations.js';
import {Params, perChannel, rstd, type Affine, type NormLayout} from './layout.js';
import {fbnPlan, mklLayerNormAvailable, nativePaths, rawStatisticsExact, type FbnPlan} from './paths.js';
import {meanShift, slotShift, slotStats, slotTensor, statsOutputs, workView, type StatsOutputs} from './statistics.js';
import type {Eager, H} from './tf_exec.js';

/**
 * `y = act((d − offset)·rstd·gamma + beta)` from `d = x − center` in the work view (`center`
 * per slot, `offset` the mean's remainder).
 */
export function applyFromCentered(e: Eager, d: H, L: NormLayout, q: Params, offset: ArrayLike<number>,
                           variance: ArrayLike<number>, trainingForward = false): H {
  const {v} = L;
  const p = q.p;
  const r = rstd(variance, p.epsilon);
  let z: H;
  if (L.rowcol) {
    if (trainingForward && v.groups === 1 && nativePaths.mklLayerNorm && mklLayerNormAvailable(e)) {
      // One oneDNN pass: the statistics of d again (two-pass, the same values) and gamma/beta.
      z = e.layerNormRows(d, v.C, q.tensor('gamma', [v.C]), q.tensor('beta', [v.C]), p.epsilon);
    } else {
      const c = e.sub(d, slotTensor(e, L, offset));
      const xh = e.mul(c, slotTensor(e, L, r));
      const t = e.mul(xh, q.tensor('gamma', L.chanShape));
      z = e.add(t, q.tensor('beta', L.chanShape));
      e.free(c, xh, t);
    }
  } else {
    z = channelAffine(e, d, L, q, r, offset);
  }
  return activate(e, z, p.activation, p.alpha);
}

/**
 * `u·A + B` with `A = gamma·rstd` and `B = beta − center·A` per (sample, channel) of the channel
 * form: one multiply-add per element.
 */
export function channelAffine(e: Eager, u: H, L: NormLayout, q: Params, r: ArrayLike<number>,
                              center: ArrayLike<number>): H {
  const gamma = q.gamma;
  const beta = q.beta;
  const A = perChannel(L, (s, c) => gamma[c] * r[s]);
  const B = perChannel(L, (s, c) => beta[c] - center[s] * gamma[c] * r[s]);
  const t = e.mul(u, e.f32(A, L.coefShape));
  const z = e.add(t, e.f32(B, L.coefShape));
  e.free(t);
  return z;
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
export function fusedTraining(e: Eager, xIn: TensorInfo, L: NormLayout, q: Params, plan: FbnPlan): TrainingForward {
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
      const {shift, offset} = meanShift(raw.m);
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
  if (shift === null && !L.rowcol && rawStatisticsExact(mean, variance)) {
    // One multiply-add, Mul + AddV2 (2 ops; x − mean first would be a third pass over x). Exact
    // to a few float32 ulps of y when |mean| ≤ RAW_MEAN_LIMIT standard deviations: then x·A and
    // B = β − mean·A stay within a few multiples of |y|.
    const y = channelAffine(e, workView(e, e.input(xIn), L), L, q, rstd(variance, p.epsilon), mean);
    return activate(e, y, p.activation, p.alpha);
  }
  const d = centered(e, xIn, L, shift ?? mean);
  const y = applyFromCentered(e, d, L, q, shift === null ? new Float64Array(v.slots) : mean, variance);
  e.free(d);
  return y;
}

/** `x − center` per slot, in the work view. */
export function centered(e: Eager, xIn: TensorInfo, L: NormLayout, center: ArrayLike<number>): H {
  const c = slotTensor(e, L, center);
  const d = e.sub(workView(e, e.input(xIn), L), c);
  e.free(c);
  return d;
}
