/** The backward kernels' computations: the reduction paths and `FusedBatchNormGradV3`. */
import type {TensorInfo} from '@tensorflow/tfjs-core';
import {activationGrad, activationGradFromOutput, invertActivation} from './activations.js';
import {centered, channelAffine} from './forward.js';
import {allZero, Params, perChannel, rstd, type Affine, type NormLayout} from './layout.js';
import {fbnPlan, mklLayerNormAvailable, nativePaths, rawStatisticsExact} from './paths.js';
import {forEachPartial, partialSums, slotTensor, workView} from './statistics.js';
import {sameShape, type Eager, type H} from './tf_exec.js';

export interface BackwardInputs {
  dy?: TensorInfo;
  x?: TensorInfo;
  y?: TensorInfo;
  mean: Float32Array;
  variance: Float32Array;
  shift: Float32Array | null;
}

export interface BackwardSums {
  sumDz: Float64Array;
  sumDzXhat: Float64Array;
  slotSumDzGamma: Float64Array;
  slotSumDzGammaXhat: Float64Array;
}

export interface DxRequest {
  training: boolean;
  count: number;
  /** Per-slot sums (given, or from `reduce`). */
  slotSumDzGamma: ArrayLike<number> | null;
  slotSumDzGammaXhat: ArrayLike<number> | null;
  dMean: ArrayLike<number> | null;
  dVariance: ArrayLike<number> | null;
}

/**
 * The backward pass on the reduction paths. `u` is what the kernels see of the input:
 * `x − center` (from `x`) or `x̂` itself (from `y`), with `x̂ = (u − mu[slot])·rho[slot]`.
 */
export class Backward {
  readonly u: H;
  readonly dz: H | undefined;
  readonly mu: Float64Array;
  readonly rho: Float64Array;
  readonly r: Float64Array;
  private readonly q: Params;
  private xhatCache: H | undefined;
  private gCache: H | undefined;

  /**
   * `ownStatistics`: `ins.mean`/`ins.variance` are the batch statistics of `ins.x` (the training
   * backward), so x̂ may come from oneDNN's `_MklLayerNorm`, which computes them again.
   */
  constructor(private readonly e: Eager, readonly L: NormLayout, p: Affine, ins: BackwardInputs,
              private ownStatistics = false) {
    const {v} = L;
    this.q = new Params(e, L, p);
    this.r = rstd(ins.variance, p.epsilon);
    const dy = ins.dy ? workView(e, e.input(ins.dy), L) : undefined;
    if (ins.x !== undefined) {
      // x̂ = (x − mean)·r on raw x when the statistics allow (see RAW_MEAN_LIMIT), else
      // ((x − shift) − meanOffset)·r, or (x − mean)·r with the subtraction first.
      const full = new Float64Array(v.slots);
      for (let s = 0; s < v.slots; s++) full[s] = (ins.shift ? ins.shift[s] : 0) + ins.mean[s];
      if (nativePaths.rawInputs && rawStatisticsExact(full, ins.variance)) {
        this.u = workView(e, e.input(ins.x), L);
        this.mu = full;
      } else {
        this.u = centered(e, ins.x, L, ins.shift ?? ins.mean);
        this.mu = ins.shift === null ? new Float64Array(v.slots) : Float64Array.from(ins.mean);
        // x − mean with a float32 mean far from zero is off by up to half its ulp: then mu = 0
        // is not u's exact mean, and x̂ must use mu as given, not statistics computed again.
        this.ownStatistics &&= ins.shift !== null;
      }
      this.rho = this.r;
      this.dz = dy && p.activation !== 'linear' ? this.gradThroughActivation(dy) : dy;
    } else if (ins.y !== undefined) {
      // In-Place ABN: z = act⁻¹(y), x̂ = (z − beta)/gamma, act' read from y.
      const y = workView(e, e.input(ins.y), L);
      const z = invertActivation(e, y, p.activation, p.alpha);
      const gamma = this.q.gamma;
      const beta = this.q.beta;
      this.u = this.channelAffine(z, (c) => 1 / gamma[c], (c) => -beta[c] / gamma[c]);
      if (z !== y) e.free(z);
      this.mu = new Float64Array(v.slots);
      this.rho = new Float64Array(v.slots).fill(1);
      this.dz = dy ? activationGradFromOutput(e, dy, y, p.activation, p.alpha) : undefined;
    } else {
      throw new Error('tfjs-norms backward kernels need x or y');
    }
  }

  /** `t·a[c] + b[c]` with per-channel coefficients. */
  private channelAffine(t: H, a: (c: number) => number, b: (c: number) => number): H {
    const {e, L} = this;
    const {v} = L;
    const shape = L.rowcol ? L.chanShape : L.coefShape.map((d, i) => (i === 0 ? 1 : d));
    const A = new Float32Array(v.C);
    const B = new Float32Array(v.C);
    for (let c = 0; c < v.C; c++) {
      A[c] = a(c);
      B[c] = b(c);
    }
    const m = e.mul(t, e.f32(A, shape));
    const r = e.add(m, e.f32(B, shape));
    e.free(m);
    return r;
  }

  /** x̂ as a tensor (row-column form). */
  private xhat(): H {
    if (this.xhatCache) return this.xhatCache;
    const {e, L} = this;
    const {v} = L;
    if (this.mu.every((m) => m === 0) && this.rho.every((r) => r === 1)) {
      this.xhatCache = this.u;
    } else if (this.ownStatistics && v.groups === 1 && sameShape(L.R, L.shape) && nativePaths.mklLayerNorm &&
               mklLayerNormAvailable(e)) {
      // LayerNorm: one oneDNN pass (its statistics of u are ours to float32 rounding) where
      // Sub + Mul with per-row coefficients are two.
      const ones = e.f32(new Float32Array(v.C).fill(1), [v.C]);
      const zeros = e.f32(new Float32Array(v.C), [v.C]);
      this.xhatCache = e.layerNormRows(this.u, v.C, ones, zeros, this.q.p.epsilon);
      e.free(ones, zeros);
    } else {
      const c = e.sub(this.u, slotTensor(e, L, this.mu));
      this.xhatCache = e.mul(c, slotTensor(e, L, this.rho));
      e.free(c);
    }
    return this.xhatCache;
  }

  /** dz from dy and z recomputed from u. */
  private gradThroughActivation(dy: H): H {
    const {e, L, q} = this;
    let z: H;
    if (L.rowcol) {
      const t = e.mul(this.xhat(), q.tensor('gamma', L.chanShape));
      z = e.add(t, q.tensor('beta', L.chanShape));
      e.free(t);
    } else {
      z = channelAffine(e, this.u, L, q, this.rho, this.mu);
    }
    const dz = activationGrad(e, dy, z, q.p.activation, q.p.alpha);
    e.free(z);
    return dz;
  }

  /** Σdz and Σdz·x̂ per channel, Σdz·γ and Σdz·γ·x̂ per slot. */
  reduce(): BackwardSums {
    const {e, L} = this;
    const {v} = L;
    const out: BackwardSums = {
      sumDz: new Float64Array(v.C), sumDzXhat: new Float64Array(v.C),
      slotSumDzGamma: new Float64Array(v.slots), slotSumDzGammaXhat: new Float64Array(v.slots),
    };
    if (this.dz === undefined) return out;
    if (L.rowcol) {
      // g = dz·γ and the column sums in one FusedBatchNormGradV3; the slot sums are rows.
      const {g, sumDz, sumDzXhat} = this.rowcolColumnSums();
      out.sumDz.set(sumDz);
      out.sumDzXhat.set(sumDzXhat);
      const gx = e.mul(g, this.xhat());
      const s = partialSums(e, L, g, gx);
      e.free(gx);
      out.slotSumDzGamma.set(s.a);
      out.slotSumDzGammaXhat.set(s.b);
      return out;
    }
    // Per (sample, channel) sums of dz and dz·u over the spatial axes.
    const gamma = this.q.gamma;
    const dzu = e.mul(this.dz, this.u);
    const s = partialSums(e, L, this.dz, dzu);
    e.free(dzu);
    forEachPartial(L, s.P, (i, slot) => {
      const c = i % v.C;
      const a = s.a[i];
      const b = this.rho[slot] * (s.b[i] - this.mu[slot] * a);
      out.sumDz[c] += a;
      out.sumDzXhat[c] += b;
      out.slotSumDzGamma[slot] += gamma[c] * a;
      out.slotSumDzGammaXhat[slot] += gamma[c] * b;
    });
    return out;
  }

  /**
   * Row-column form: `g = dz·γ` and the per-column sums Σdz, Σdz·x̂ in one
   * `FusedBatchNormGradV3` (inference mode, NHWC `[1, N, 1, C]`, mean 0 and variance 1, so that
   * its x̂ is ours).
   */
  private rowcolColumnSums(): {g: H; sumDz: Float32Array; sumDzXhat: Float32Array} {
    const {e, L, q} = this;
    const {v} = L;
    const shape4 = [1, v.N, 1, v.C];
    const dz4 = e.reshape(this.dz!, shape4);
    const xhat = this.xhat();
    const xhat4 = e.reshape(xhat, shape4);
    const fb = e.fusedBatchNormGrad(dz4, xhat4,
      q.tensor('gamma', [v.C]), e.f32(new Float32Array(v.C), [v.C]), e.f32(new Float32Array(v.C).fill(1), [v.C]),
      1e-30, 'NHWC', false);
    const sumDz = Float32Array.from(e.read(fb.offsetGrad));
    const sumDzXhat = Float32Array.from(e.read(fb.scaleGrad));
    this.gCache = e.reshape(fb.dx, L.R);
    // Views share their tensor's buffer: drop them so that freeing x̂ and g later frees memory.
    e.free(fb.offsetGrad, fb.scaleGrad, ...[dz4, xhat4, fb.dx].filter((h) => h !== this.dz && h !== xhat && h !== this.gCache));
    return {g: this.gCache, sumDz, sumDzXhat};
  }

  /**
   * `dx = dz·γ·r + x̂·k1 + k2`, with `k1 = (−r·Σdzγx̂ + 2·dVariance/r)/count` and
   * `k2 = (−r·Σdzγ + dMean)/count` per slot when training (both 0 otherwise).
   */
  dx(req: DxRequest): H {
    const {e, L, q} = this;
    const {v} = L;
    const k1 = new Float64Array(v.slots);
    const k2 = new Float64Array(v.slots);
    if (req.training) {
      for (let s = 0; s < v.slots; s++) {
        const r = this.r[s];
        const sg = req.slotSumDzGamma ? req.slotSumDzGamma[s] : 0;
        const sgx = req.slotSumDzGammaXhat ? req.slotSumDzGammaXhat[s] : 0;
        const dm = req.dMean ? req.dMean[s] : 0;
        const dv = req.dVariance ? req.dVariance[s] : 0;
        k1[s] = (-r * sgx + 2 * dv / r) / req.count;
        k2[s] = (-r * sg + dm) / req.count;
      }
    }
    let gradPart: H | undefined;
    let statPart: H | undefined;
    if (L.rowcol) {
      // g and x̂ are freed as soon as they are read for the last time: the next full-size
      // output then reuses their memory, still in cache.
      if (this.dz !== undefined) {
        const g = this.gCache ?? e.mul(this.dz, q.tensor('gamma', L.chanShape));
        gradPart = e.mul(g, slotTensor(e, L, this.r));
        if (g !== this.dz) e.free(g);
        this.gCache = undefined;
      }
      if (req.training) {
        const xhat = this.xhat();
        const t = e.mul(xhat, slotTensor(e, L, k1));
        if (xhat !== this.u) e.free(xhat);
        this.xhatCache = undefined;
        statPart = e.add(t, slotTensor(e, L, k2));
        e.free(t);
      }
    } else {
      // dx = P·dz + Q·u + K with x̂ = (u − mu)·rho: Q = k1·rho, K = k2 − k1·rho·mu.
      if (this.dz !== undefined) {
        const gamma = q.gamma;
        gradPart = e.mul(this.dz, e.f32(perChannel(L, (s, c) => gamma[c] * this.r[s]), L.coefShape));
      }
      if (req.training) {
        const t = e.mul(this.u, e.f32(perChannel(L, (s) => k1[s] * this.rho[s]), L.coefShape));
        statPart = e.add(t, e.f32(perChannel(L, (s) => k2[s] - k1[s] * this.rho[s] * this.mu[s]), L.coefShape));
        e.free(t);
      }
    }
    if (gradPart && statPart) {
      const dx = e.add(gradPart, statPart);
      e.free(gradPart, statPart);
      return dx;
    }
    return gradPart ?? statPart ?? e.mul(this.u, e.f32([0], []));
  }
}

/**
 * The training backward through `FusedBatchNormGradV3` (training mode), for the views
 * `FusedBatchNormV3` serves, or null. On raw `x` with the full mean when the statistics allow,
 * else on `x − shift` with the mean's remainder. Returns dx, Σdz and Σdz·x̂ per channel.
 */
export function fusedBackwardTraining(
    e: Eager, L: NormLayout, p: Affine, ins: BackwardInputs, dMean: Float32Array | null,
    dVariance: Float32Array | null): {dx: H; sumDz: Float64Array | H; sumDzXhat: Float64Array | H} | null {
  const plan = fbnPlan(L, e.gpu);
  if (plan === null || ins.x === undefined || ins.dy === undefined) return null;
  const {v} = L;
  const q = new Params(e, L, p);
  // The full mean, and whether the raw input can be used with it.
  const full = new Float32Array(v.slots);
  for (let s = 0; s < v.slots; s++) full[s] = ins.shift === null ? ins.mean[s] : ins.shift[s] + ins.mean[s];
  const raw = nativePaths.rawInputs && rawStatisticsExact(full, ins.variance);
  const u = raw ? e.input(ins.x) : centered(e, ins.x, L, ins.shift ?? ins.mean);
  const mu = raw ? full : ins.shift === null ? new Float32Array(v.slots) : ins.mean;
  const u4 = e.reshape(u, plan.shape);
  const gamma = q.tensor('gamma', [plan.channels], plan.tile);
  let dz = e.reshape(e.input(ins.dy), plan.shape);
  if (p.activation !== 'linear') {
    const fbn = e.fusedBatchNorm(u4, gamma, q.tensor('beta', [plan.channels], plan.tile), e.f32(mu, [plan.channels]),
      e.f32(ins.variance, [plan.channels]), p.epsilon, plan.format, false);
    e.free(fbn.batchMean, fbn.batchVariance, fbn.reserve1, fbn.reserve2, fbn.reserve3);
    dz = activationGrad(e, dz, fbn.y, p.activation, p.alpha);
    e.free(fbn.y);
  }
  // The saved statistics the op expects: the batch mean of its x and, on CPUs, the biased
  // variance; cuDNN saves the inverse standard deviation instead.
  const saved2 = e.gpu ? Float32Array.from(rstd(ins.variance, p.epsilon)) : ins.variance;
  const g = e.fusedBatchNormGrad(dz, u4, gamma, e.f32(mu, [plan.channels]), e.f32(saved2, [plan.channels]),
    p.epsilon, plan.format, true);
  let dx = g.dx;
  // The gradient passes zeros when the statistics outputs are unused: skip three full passes.
  if (!allZero(dMean) || !allZero(dVariance)) {
    // + dMean/count + 2·dVariance·(x − mean)/count per slot.
    const uw = e.reshape(u, L.W);
    const Q = perChannel(L, (s) => 2 * (dVariance ? dVariance[s] : 0) / v.count);
    const K = perChannel(L, (s) => ((dMean ? dMean[s] : 0) - 2 * (dVariance ? dVariance[s] : 0) * mu[s]) / v.count);
    const t = e.mul(uw, e.f32(Q, L.coefShape));
    const s = e.add(t, e.f32(K, L.coefShape));
    const sum = e.add(e.reshape(dx, L.W), s);
    e.free(t, s, dx);
    dx = sum;
  }
  if (plan.tile === 1) return {dx, sumDz: g.offsetGrad, sumDzXhat: g.scaleGrad};
  // InstanceNorm: per (sample, channel) sums, merged over the samples on the host.
  const a = e.read(g.offsetGrad);
  const b = e.read(g.scaleGrad);
  const sumDz = new Float64Array(v.C);
  const sumDzXhat = new Float64Array(v.C);
  for (let i = 0; i < a.length; i++) {
    sumDz[i % v.C] += a[i];
    sumDzXhat[i % v.C] += b[i];
  }
  return {dx, sumDz, sumDzXhat};
}
