/**
 * The `tensorflow` backend's kernels (the table is in register_all.ts): each reads its inputs,
 * runs the computations of statistics.ts, forward.ts and backward.ts on an `Eager` (tf_exec.ts)
 * and hands the outputs back to the engine. norm_graph.ts describes the paths.
 */
import type {KernelConfig, TensorInfo} from '@tensorflow/tfjs-core';
import {
  NormsApply, type NormsApplyInputs, NormsBackwardApply, type NormsBackwardApplyAttrs, type NormsBackwardApplyInputs,
  NormsBackwardReduce, type NormsBackwardReduceInputs, NormsBackwardTraining, type NormsBackwardTrainingInputs,
  NormsMoments, type NormsMomentsInputs, NormsNormalizeTraining, type NormsNormalizeTrainingInputs,
} from '../../src/kernel_names.js';
import {Backward, fusedBackwardTraining, type BackwardInputs} from './backward.js';
import {applyGiven, normalizeTraining} from './forward.js';
import {affine, normLayout} from './layout.js';
import {moments} from './statistics.js';
import {withEager, type Eager, type H} from './tf_exec.js';

/** Mean and biased variance per slot: `Sub` (x − shift), then `Sum` and `EuclideanNorm`. */
export const momentsConfig: KernelConfig = {
  kernelName: NormsMoments,
  backendName: 'tensorflow',
  kernelFunc: ({inputs, backend, attrs}) => withEager(backend, (e) => {
    const {x} = inputs as NormsMomentsInputs;
    const L = normLayout(x.shape, attrs!);
    const o = moments(e, x, L);
    return [o.mean, o.variance, o.shift, o.meanOffset].map((t) => e.outputHost(t, [L.v.slots]));
  }),
};

/**
 * Normalization with given statistics: `FusedBatchNormV3` in inference mode for BatchNorm with
 * channels last (and channels first on GPUs), one multiply-add with per-(sample, channel)
 * coefficients otherwise.
 */
export const applyConfig: KernelConfig = {
  kernelName: NormsApply,
  backendName: 'tensorflow',
  kernelFunc: ({inputs, backend, attrs}) => withEager(backend, (e) => {
    const ins = inputs as NormsApplyInputs;
    const L = normLayout(ins.x.shape, attrs!);
    const p = affine(attrs!, ins.gamma, ins.beta);
    const y = applyGiven(e, ins.x, L, p, e.readInput(ins.mean), e.readInput(ins.variance),
      ins.shift ? e.readInput(ins.shift) : null);
    return e.output(y, ins.x.shape);
  }),
};

/**
 * Batch statistics and the apply: `FusedBatchNormV3` (training) for BatchNorm with channels
 * last (and channels first on GPUs); otherwise `Sum` and `EuclideanNorm`, then `_MklLayerNorm`
 * for LayerNorm or one multiply-add.
 */
export const normalizeTrainingConfig: KernelConfig = {
  kernelName: NormsNormalizeTraining,
  backendName: 'tensorflow',
  kernelFunc: ({inputs, backend, attrs}) => withEager(backend, (e) => {
    const {x, gamma, beta} = inputs as NormsNormalizeTrainingInputs;
    const L = normLayout(x.shape, attrs!);
    const {y, stats} = normalizeTraining(e, x, L, affine(attrs!, gamma, beta));
    return [
      e.output(y, x.shape),
      ...[stats.mean, stats.variance, stats.shift, stats.meanOffset].map((t) => e.outputHost(t, [L.v.slots])),
    ];
  }),
};

/** The input the backward kernels were given (`x`, or `y` for In-Place ABN) and host statistics. */
export function backwardInputs(
    e: Eager,
    ins: {dy?: TensorInfo; x?: TensorInfo; y?: TensorInfo; mean: TensorInfo; variance: TensorInfo; shift?: TensorInfo}):
    {source: TensorInfo; bwd: BackwardInputs} {
  const source = ins.x ?? ins.y;
  if (source === undefined) throw new Error('tfjs-norms backward kernels need x or y');
  return {
    source,
    bwd: {
      dy: ins.dy, x: ins.x, y: ins.x === undefined ? ins.y : undefined,
      mean: e.readInput(ins.mean), variance: e.readInput(ins.variance),
      shift: ins.shift ? e.readInput(ins.shift) : null,
    },
  };
}

export function optionalValues(e: Eager, t: TensorInfo | undefined): Float32Array | null {
  return t === undefined ? null : e.readInput(t);
}

/** Σdz, Σdz·x̂ per channel and Σdz·γ, Σdz·γ·x̂ per slot: `Mul` and `Sum`s over the spatial axis. */
export const backwardReduceConfig: KernelConfig = {
  kernelName: NormsBackwardReduce,
  backendName: 'tensorflow',
  kernelFunc: ({inputs, backend, attrs}) => withEager(backend, (e) => {
    const ins = inputs as NormsBackwardReduceInputs;
    const {source, bwd} = backwardInputs(e, ins);
    const L = normLayout(source.shape, attrs!);
    const s = new Backward(e, L, affine(attrs!, ins.gamma, ins.beta), bwd).reduce();
    const {C, slots} = L.v;
    return [
      e.outputHost(s.sumDz, [C]), e.outputHost(s.sumDzXhat, [C]),
      e.outputHost(s.slotSumDzGamma, [slots]), e.outputHost(s.slotSumDzGammaXhat, [slots]),
    ];
  }),
};

/** `dx = dz·γ·r + x̂·k1 + k2` with per-slot `k1`, `k2` computed on the host. */
export const backwardApplyConfig: KernelConfig = {
  kernelName: NormsBackwardApply,
  backendName: 'tensorflow',
  kernelFunc: ({inputs, backend, attrs}) => withEager(backend, (e) => {
    const ins = inputs as NormsBackwardApplyInputs;
    const a = attrs as NormsBackwardApplyAttrs;
    const {source, bwd} = backwardInputs(e, ins);
    const L = normLayout(source.shape, attrs!);
    const dx = new Backward(e, L, affine(attrs!, ins.gamma, ins.beta), bwd).dx({
      training: a.training, count: a.count,
      slotSumDzGamma: optionalValues(e, ins.slotSumDzGamma),
      slotSumDzGammaXhat: optionalValues(e, ins.slotSumDzGammaXhat),
      dMean: optionalValues(e, ins.dMean), dVariance: optionalValues(e, ins.dVariance),
    });
    return e.output(dx, source.shape);
  }),
};

/**
 * The training backward in one kernel: `FusedBatchNormGradV3` (training mode) for BatchNorm
 * where `FusedBatchNormV3` runs the forward, else the reduce and apply steps back to back.
 */
export const backwardTrainingConfig: KernelConfig = {
  kernelName: NormsBackwardTraining,
  backendName: 'tensorflow',
  kernelFunc: ({inputs, backend, attrs}) => withEager(backend, (e) => {
    const ins = inputs as NormsBackwardTrainingInputs;
    const {source, bwd} = backwardInputs(e, ins);
    const L = normLayout(source.shape, attrs!);
    const p = affine(attrs!, ins.gamma, ins.beta);
    const dMean = optionalValues(e, ins.dMean);
    const dVariance = optionalValues(e, ins.dVariance);
    const {C} = L.v;
    const fused = fusedBackwardTraining(e, L, p, bwd, dMean, dVariance);
    if (fused !== null) {
      const out = (t: Float64Array | H) => (t instanceof Float64Array ? e.outputHost(t, [C]) : e.output(t, [C]));
      return [e.output(fused.dx, source.shape), out(fused.sumDz), out(fused.sumDzXhat)];
    }
    const bw = new Backward(e, L, p, bwd, true);
    const s = bw.reduce();
    const dx = bw.dx({
      training: true, count: L.v.count, slotSumDzGamma: s.slotSumDzGamma,
      slotSumDzGammaXhat: s.slotSumDzGammaXhat, dMean, dVariance,
    });
    return [e.output(dx, source.shape), e.outputHost(s.sumDz, [C]), e.outputHost(s.sumDzXhat, [C])];
  }),
};
