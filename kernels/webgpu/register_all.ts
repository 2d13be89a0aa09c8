/**
 * Registers every tfjs-norms kernel for the `webgpu` backend: WGSL programs (norm_programs.ts)
 * run by the backend's own program runner on its buffers, never read back to the CPU.
 */
import type {KernelBackend, KernelConfig, NamedAttrMap, TensorInfo} from '@tensorflow/tfjs-core';
import {
  NormsApply, NormsBackwardApply, NormsBackwardReduce, NormsBackwardTraining, NormsMoments, NormsNormalizeTraining,
  NormsRMSNorm, NormsRMSNormGrad,
  type NormApplyAttrs, type NormsApplyInputs, type NormsBackwardApplyAttrs, type NormsBackwardApplyInputs,
  type NormsBackwardReduceInputs, type NormsBackwardTrainingInputs, type NormsMomentsInputs,
  type NormsNormalizeTrainingInputs,
} from '../../src/kernel_names.js';
import {normView, type NormView} from '../../src/norm_view.js';
import {registerBackendKernels} from '../composite/install.js';
import {
  applyProgram, backwardApplyProgram, channelReduceProgram, columnFinishProgram, columnPartialProgram, slotFromChannelProgram, slotReduceProgram, slotTableProgram, statsProgram,
  type BackwardSource, type StatsInputs,
} from './norm_programs.js';
import {asWebGPU, dispose, pick, type WebGPUBackendLike} from './program.js';
import {rmsNormGradWebGPU, rmsNormWebGPU} from './rms_norm.js';

/** `x`, or the forward output `y` when In-Place ABN gave that instead. */
function sourceOf(inputs: {x?: TensorInfo; y?: TensorInfo}): BackwardSource {
  const src = inputs.x ?? inputs.y;
  if (src === undefined) throw new Error('tfjs-norms backward kernels need x or y');
  return {src, fromOutput: inputs.x === undefined};
}

/** The four `[slots]` statistics outputs from the packed stats buffer (which is disposed). */
function unpackStats(b: WebGPUBackendLike, packed: TensorInfo, v: NormView): TensorInfo[] {
  const out = [0, 1, 2, 3].map((k) => pick(b, packed, k * v.slots, [v.slots]));
  dispose(b, packed);
  return out;
}

/**
 * Packed statistics: by columns of the `[N·S, C]` matrix when channels are last and every slot is
 * one channel over the batch (BatchNorm NHWC), else one workgroup per slot.
 */
function stats(b: WebGPUBackendLike, x: TensorInfo, v: NormView, a: NormApplyAttrs): TensorInfo {
  if (!(v.channelsLast && !v.perSample && v.cpg === 1)) return statsProgram(b, x, v, a);
  const partial = columnPartialProgram(b, x, {stats: true}, v, a);
  const out = columnFinishProgram(b, partial, x, v);
  dispose(b, partial);
  return out;
}

function moments(b: WebGPUBackendLike, {x}: NormsMomentsInputs, a: NormApplyAttrs): TensorInfo[] {
  const v = normView(x.shape, a);
  return unpackStats(b, stats(b, x, v, a), v);
}

function apply(b: WebGPUBackendLike, ins: NormsApplyInputs, a: NormApplyAttrs): TensorInfo {
  const v = normView(ins.x.shape, a);
  return {...applyProgram(b, ins.x, ins, v, a), shape: ins.x.shape};
}

function normalizeTraining(b: WebGPUBackendLike, {x, gamma, beta}: NormsNormalizeTrainingInputs,
                           a: NormApplyAttrs): TensorInfo[] {
  const v = normView(x.shape, a);
  const [mean, variance, shift, meanOffset] = unpackStats(b, stats(b, x, v, a), v);
  const y = applyProgram(b, x, {mean: meanOffset, variance, shift, gamma, beta}, v, a);
  return [{...y, shape: x.shape}, mean, variance, shift, meanOffset];
}

/** Packed `[sumDz | sumDzXhat]` per channel and `[slotSumDzGamma | slotSumDzGammaXhat]` per slot. */
function reduceSums(b: WebGPUBackendLike, dy: TensorInfo, src: BackwardSource, s: StatsInputs, v: NormView,
                    a: NormApplyAttrs): {chan: TensorInfo; slot: TensorInfo} {
  let chan: TensorInfo;
  if (v.channelsLast) {
    const partial = columnPartialProgram(b, src.src, {stats: false, dy, src, s}, v, a);
    chan = columnFinishProgram(b, partial, null, v);
    dispose(b, partial);
  } else {
    chan = channelReduceProgram(b, dy, src, s, v, a);
  }
  const slot = v.perSample ? slotReduceProgram(b, dy, src, s, v, a) : slotFromChannelProgram(b, chan, s.gamma, v);
  return {chan, slot};
}

function backwardReduce(b: WebGPUBackendLike, ins: NormsBackwardReduceInputs, a: NormApplyAttrs): TensorInfo[] {
  const src = sourceOf(ins);
  const v = normView(src.src.shape, a);
  const {chan, slot} = reduceSums(b, ins.dy, src, ins, v, a);
  const out = [pick(b, chan, 0, [v.C]), pick(b, chan, v.C, [v.C]), pick(b, slot, 0, [v.slots]),
    pick(b, slot, v.slots, [v.slots])];
  dispose(b, chan, slot);
  return out;
}

function backwardApply(b: WebGPUBackendLike, ins: NormsBackwardApplyInputs, a: NormsBackwardApplyAttrs): TensorInfo {
  const src = sourceOf(ins);
  const v = normView(src.src.shape, a);
  const table = slotTableProgram(b, ins, {...ins, training: a.training, count: a.count}, v, a);
  const dx = backwardApplyProgram(b, src, ins, ins.dy, table, v, a);
  dispose(b, table);
  return {...dx, shape: src.src.shape};
}

function backwardTraining(b: WebGPUBackendLike, ins: NormsBackwardTrainingInputs, a: NormApplyAttrs): TensorInfo[] {
  const src = sourceOf(ins);
  const v = normView(src.src.shape, a);
  const {chan, slot} = reduceSums(b, ins.dy, src, ins, v, a);
  const ssg = pick(b, slot, 0, [v.slots]);
  const ssgx = pick(b, slot, v.slots, [v.slots]);
  const table = slotTableProgram(b, ins, {
    slotSumDzGamma: ssg, slotSumDzGammaXhat: ssgx, dMean: ins.dMean, dVariance: ins.dVariance, training: true,
    count: v.count,
  }, v, a);
  const dx = backwardApplyProgram(b, src, ins, ins.dy, table, v, a);
  const out = [{...dx, shape: src.src.shape}, pick(b, chan, 0, [v.C]), pick(b, chan, v.C, [v.C])];
  dispose(b, chan, slot, ssg, ssgx, table);
  return out;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = (b: WebGPUBackendLike, inputs: any, attrs: any) => TensorInfo | TensorInfo[];

const BODIES: Record<string, Body> = {
  [NormsMoments]: moments,
  [NormsApply]: apply,
  [NormsNormalizeTraining]: normalizeTraining,
  [NormsBackwardReduce]: backwardReduce,
  [NormsBackwardApply]: backwardApply,
  [NormsBackwardTraining]: backwardTraining,
  [NormsRMSNorm]: rmsNormWebGPU,
  [NormsRMSNormGrad]: rmsNormGradWebGPU,
};

export const webgpuKernelConfigs: KernelConfig[] = Object.entries(BODIES).map(([kernelName, body]) => ({
  kernelName,
  backendName: 'webgpu',
  kernelFunc: ({inputs, backend, attrs}) => body(asWebGPU(backend as KernelBackend), inputs, attrs as NamedAttrMap),
}));

registerBackendKernels(webgpuKernelConfigs);
