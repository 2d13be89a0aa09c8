/**
 * The kernels of the contract on typed arrays, shared by the cpu and wasm backends: each one
 * allocates its outputs, reads its inputs through a `KernelIO`, and runs the loops of
 * norm_loops.ts (RMSNorm: rms_norm_loops.ts). `normKernelConfigs` makes a backend's kernel table
 * from them.
 */
import type {KernelBackend, KernelConfig, NamedAttrMap, TensorInfo} from '@tensorflow/tfjs-core';
import {
  NormsApply, NormsBackwardApply, NormsBackwardReduce, NormsBackwardTraining, NormsMoments, NormsNormalizeTraining,
  type NormApplyAttrs, type NormsApplyInputs, type NormsBackwardApplyAttrs, type NormsBackwardApplyInputs,
  type NormsBackwardReduceInputs, type NormsBackwardTrainingInputs, type NormsMomentsInputs,
  type NormsNormalizeTrainingInputs, NormsRMSNorm, NormsRMSNormGrad,
} from '../../src/kernel_names.js';
import {normView, type NormView} from '../../src/norm_view.js';
import type {KernelIO} from './kernel_io.js';
import {JS_LOOPS} from './loops.js';
import {slotMeans, type ApplyParams, type BackwardSource, type Moments} from './norm_loops.js';
import {rmsNorm, rmsNormGrad} from './rms_norm.js';
import {contiguousSlots} from './slot_loops.js';

type StatsInputs = {x: TensorInfo; mean: TensorInfo; variance: TensorInfo; gamma?: TensorInfo; beta?: TensorInfo;
                    shift?: TensorInfo};

function optional(io: KernelIO, t: TensorInfo | undefined): Float32Array | null {
  return t === undefined ? null : io.read(t);
}

/** The parameters of the elementwise loops from a kernel's inputs and attributes. */
function applyParams(io: KernelIO, v: NormView, ins: StatsInputs, a: NormApplyAttrs): ApplyParams {
  return {
    v,
    mean: slotMeans(io.read(ins.mean), optional(io, ins.shift)),
    variance: io.read(ins.variance),
    gamma: optional(io, ins.gamma),
    beta: optional(io, ins.beta),
    epsilon: a.epsilon,
    activation: a.activation,
    alpha: a.alpha,
  };
}

/** `x`, or the forward output `y` when In-Place ABN gave that instead. */
function sourceOf(inputs: {x?: TensorInfo; y?: TensorInfo}): TensorInfo {
  const info = inputs.x ?? inputs.y;
  if (info === undefined) throw new Error('tfjs-norms backward kernels need x or y');
  return info;
}

function readSource(io: KernelIO, inputs: {x?: TensorInfo; y?: TensorInfo}): BackwardSource {
  return {data: io.read(sourceOf(inputs)), fromOutput: inputs.x === undefined};
}

function moments_(io: KernelIO, {x}: NormsMomentsInputs, a: NormApplyAttrs): TensorInfo[] {
  const v = normView(x.shape, a);
  const out = io.allocate([[v.slots], [v.slots], [v.slots], [v.slots]]);
  const {slotMoments, moments} = io.loops ?? JS_LOOPS;
  const m = (contiguousSlots(v) ? slotMoments : moments)(io.read(x), v);
  [m.mean, m.variance, m.shift, m.meanOffset].forEach((t, i) => out.data[i].set(t));
  return out.infos();
}

function apply_(io: KernelIO, ins: NormsApplyInputs, a: NormApplyAttrs): TensorInfo {
  const v = normView(ins.x.shape, a);
  const out = io.allocate([ins.x.shape]);
  const {applySlots, apply} = io.loops ?? JS_LOOPS;
  (contiguousSlots(v) ? applySlots : apply)(io.read(ins.x), applyParams(io, v, ins, a), out.data[0]);
  return out.infos()[0];
}

function normalizeTraining(io: KernelIO, {x, gamma, beta}: NormsNormalizeTrainingInputs, a: NormApplyAttrs): TensorInfo[] {
  const v = normView(x.shape, a);
  const out = io.allocate([x.shape, [v.slots], [v.slots], [v.slots], [v.slots]]);
  const xs = io.read(x);
  const p = {v, gamma: optional(io, gamma), beta: optional(io, beta), epsilon: a.epsilon, activation: a.activation,
    alpha: a.alpha};
  const {normalizeSlots, moments, apply} = io.loops ?? JS_LOOPS;
  let m: Moments;
  if (contiguousSlots(v)) {
    m = normalizeSlots(xs, p, out.data[0]);
  } else {
    m = moments(xs, v);
    apply(xs, {...p, mean: m.exactMean, variance: m.variance}, out.data[0]);
  }
  [m.mean, m.variance, m.shift, m.meanOffset].forEach((t, i) => out.data[i + 1].set(t));
  return out.infos();
}

function backwardReduce_(io: KernelIO, ins: NormsBackwardReduceInputs, a: NormApplyAttrs): TensorInfo[] {
  const info = sourceOf(ins);
  const v = normView(info.shape, a);
  const out = io.allocate([[v.C], [v.C], [v.slots], [v.slots]]);
  const r = (io.loops ?? JS_LOOPS).backwardReduce(io.read(ins.dy), readSource(io, ins), applyParams(io, v, {...ins, x: info}, a));
  [r.sumDz, r.sumDzXhat, r.slotSumDzGamma, r.slotSumDzGammaXhat].forEach((t, i) => out.data[i].set(t));
  return out.infos();
}

function backwardApply_(io: KernelIO, ins: NormsBackwardApplyInputs, a: NormsBackwardApplyAttrs): TensorInfo {
  const info = sourceOf(ins);
  const v = normView(info.shape, a);
  const out = io.allocate([info.shape]);
  (io.loops ?? JS_LOOPS).backwardApply(readSource(io, ins), {
    ...applyParams(io, v, {...ins, x: info}, a),
    dy: optional(io, ins.dy),
    training: a.training,
    count: a.count,
    slotSumDzGamma: optional(io, ins.slotSumDzGamma),
    slotSumDzGammaXhat: optional(io, ins.slotSumDzGammaXhat),
    dMean: optional(io, ins.dMean),
    dVariance: optional(io, ins.dVariance),
  }, out.data[0]);
  return out.infos()[0];
}

/** Reduce and apply in one kernel, so the sums stay float64 between the two passes. */
function backwardTraining(io: KernelIO, ins: NormsBackwardTrainingInputs, a: NormApplyAttrs): TensorInfo[] {
  const info = sourceOf(ins);
  const v = normView(info.shape, a);
  const out = io.allocate([info.shape, [v.C], [v.C]]);
  const src = readSource(io, ins);
  const p = applyParams(io, v, {...ins, x: info}, a);
  const dy = io.read(ins.dy);
  const {backwardReduce, backwardApply} = io.loops ?? JS_LOOPS;
  const sums = backwardReduce(dy, src, p);
  backwardApply(src, {
    ...p, dy, training: true, count: v.count,
    slotSumDzGamma: sums.slotSumDzGamma, slotSumDzGammaXhat: sums.slotSumDzGammaXhat,
    dMean: optional(io, ins.dMean), dVariance: optional(io, ins.dVariance),
  }, out.data[0]);
  out.data[1].set(sums.sumDz);
  out.data[2].set(sums.sumDzXhat);
  return out.infos();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = (io: KernelIO, inputs: any, attrs: any) => TensorInfo | TensorInfo[];

const BODIES: Record<string, Body> = {
  [NormsMoments]: moments_,
  [NormsApply]: apply_,
  [NormsNormalizeTraining]: normalizeTraining,
  [NormsBackwardReduce]: backwardReduce_,
  [NormsBackwardApply]: backwardApply_,
  [NormsBackwardTraining]: backwardTraining,
  [NormsRMSNorm]: rmsNorm,
  [NormsRMSNormGrad]: rmsNormGrad,
};

/** Every kernel of the contract for `backendName`, reaching its memory through `ioOf(backend)`. */
export function normKernelConfigs(backendName: string, ioOf: (backend: KernelBackend) => KernelIO): KernelConfig[] {
  return Object.entries(BODIES).map(([kernelName, body]) => ({
    kernelName,
    backendName,
    kernelFunc: ({inputs, backend, attrs}) => body(ioOf(backend as KernelBackend), inputs, attrs as NamedAttrMap),
  }));
}
