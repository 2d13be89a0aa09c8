/**
 * Every kernel of the contract called directly on one view (forward, backward from x and from
 * In-Place ABN's y, inference apply with and without a shift), for the browser suites that
 * compare a GPU backend's kernels with the cpu backend's in the same page (webgl, webgpu).
 */
import * as tf from '@tensorflow/tfjs';
import {
  NormsApply, NormsBackwardApply, NormsBackwardReduce, NormsBackwardTraining, NormsMoments, NormsNormalizeTraining,
  type NormApplyAttrs,
} from '../../src/kernel_names.js';

type T = tf.Tensor;

/** Deterministic pseudo-random data (xorshift), `scale·N(0,1)`-ish plus `offset`. */
export function data(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  const a = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    let u = 0;
    for (let k = 0; k < 3; k++) {
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      u += s / 4294967296;
    }
    a[i] = offset + scale * (u - 1.5) * 2;
  }
  return a;
}

export function kernel(name: string, inputs: tf.NamedTensorMap, attrs: object): T[] {
  const r = tf.engine().runKernel(name, inputs, attrs as never) as T | T[];
  return Array.isArray(r) ? r : [r];
}

export interface KernelCase {
  name: string;
  layout: 'NCS' | 'NSC';
  shape: number[];
  groups: number;
  perSample: boolean;
  activation: NormApplyAttrs['activation'];
  alpha: number;
}

/**
 * Every kernel output on the active backend for one view: forward, backward from x and from y
 * (tensors, for the caller to read and dispose).
 */
export function kernelOutputs(k: KernelCase): T[] {
  return tf.tidy(() => {
    const attrs: NormApplyAttrs = {layout: k.layout, batchAxes: 1, channelAxes: 1, groups: k.groups,
      perSample: k.perSample, epsilon: 1e-3, activation: k.activation, alpha: k.alpha};
    const C = k.layout === 'NCS' ? k.shape[1] : k.shape[k.shape.length - 1];
    const size = k.shape.reduce((a, b) => a * b, 1);
    const x = tf.tensor(data(size, 11, 2, 3), k.shape);
    const dy = tf.tensor(data(size, 12), k.shape);
    const gamma = tf.tensor(data(C, 13, 0.5, 1), [C]);
    const beta = tf.tensor(data(C, 14, 0.5, 0), [C]);
    const [m, v, sh, off] = kernel(NormsMoments, {x}, attrs);
    const [y, mean, variance, shift, meanOffset] = kernel(NormsNormalizeTraining, {x, gamma, beta}, attrs);
    const slots = variance.size;
    const dMean = tf.tensor(data(slots, 15, 0.1), [slots]);
    const dVariance = tf.tensor(data(slots, 16, 0.1), [slots]);
    const common = {mean: meanOffset, variance, gamma, beta, dy};
    const fromX = kernel(NormsBackwardReduce, {...common, x, shift}, attrs);
    const sums = {slotSumDzGamma: fromX[2], slotSumDzGammaXhat: fromX[3], dMean, dVariance};
    const count = size / slots;
    const dxX = kernel(NormsBackwardApply, {...common, ...sums, x, shift}, {...attrs, training: true, count});
    const dxInfer = kernel(NormsBackwardApply, {...common, x, shift}, {...attrs, training: false, count});
    const dxNoDy = kernel(NormsBackwardApply, {x, mean: meanOffset, shift, variance, dMean, dVariance},
      {...attrs, epsilon: 1, activation: 'linear', training: true, count});
    const fusedX = kernel(NormsBackwardTraining, {...common, x, shift, dMean, dVariance}, attrs);
    const applied = kernel(NormsApply, {x, mean: meanOffset, shift, variance, gamma, beta}, attrs);
    const appliedNoShift = kernel(NormsApply, {x, mean, variance, gamma, beta}, attrs);
    const outs = [m, v, sh, off, y, mean, variance, shift, meanOffset, ...fromX, ...dxX, ...dxInfer, ...dxNoDy,
      ...fusedX, ...applied, ...appliedNoShift];
    if (k.activation !== 'relu') {
      const fromY = kernel(NormsBackwardReduce, {...common, y}, attrs);
      const dxY = kernel(NormsBackwardApply, {...common, ...sums, y}, {...attrs, training: true, count});
      const fusedY = kernel(NormsBackwardTraining, {...common, y, dMean, dVariance}, attrs);
      outs.push(...fromY, ...dxY, ...fusedY);
    }
    return outs;
  });
}

export const KERNEL_OUTPUT_NAMES = ['moments.mean', 'moments.variance', 'moments.shift', 'moments.meanOffset', 'train.y',
  'train.mean', 'train.variance', 'train.shift', 'train.meanOffset', 'reduceX.sumDz', 'reduceX.sumDzXhat',
  'reduceX.slotSumDzGamma', 'reduceX.slotSumDzGammaXhat', 'applyX.dx', 'applyInference.dx', 'applyNoDy.dx',
  'fusedX.dx', 'fusedX.sumDz', 'fusedX.sumDzXhat', 'apply.y', 'applyNoShift.y', 'reduceY.sumDz', 'reduceY.sumDzXhat',
  'reduceY.slotSumDzGamma', 'reduceY.slotSumDzGammaXhat', 'applyY.dx', 'fusedY.dx', 'fusedY.sumDz', 'fusedY.sumDzXhat'];


/** The values of `ts` (read synchronously, or asynchronously for webgpu), which are then disposed. */
export function readSyncAll(ts: T[]): Float32Array[] {
  try {
    return ts.map((t) => t.dataSync() as Float32Array);
  } finally {
    tf.dispose(ts);
  }
}

export async function readAll(ts: T[]): Promise<Float32Array[]> {
  try {
    return await Promise.all(ts.map(async (t) => await t.data() as Float32Array));
  } finally {
    tf.dispose(ts);
  }
}
