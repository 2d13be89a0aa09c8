/**
 * Which TensorFlow ops serve each view, and when raw `x` may go straight into them; the
 * measurements behind the choices are in docs/tensorflow.md (and `npm run bench`'s tensorflow
 * section, "Kernel paths measured").
 */
import {env} from '@tensorflow/tfjs-core';
import {
  NORMS_TF_FBN_CHANNELS_FIRST, NORMS_TF_FUSED_BATCH_NORM, NORMS_TF_MKL_LAYER_NORM, NORMS_TF_RAW_INPUTS,
} from '../../src/flags.js';
import {sameShape, type Eager} from './tf_exec.js';
import type {NormLayout} from './layout.js';

/** Raw `x` goes to `FusedBatchNorm*` only when |mean| ≤ this many standard deviations. */
export const RAW_MEAN_LIMIT = 4;

/**
 * Raw sums Σx, Σx² give the statistics only when |mean| ≤ this many standard deviations
 * (Σx²/n is then at most 10 variances: the cancellation costs at most ~3.3 bits).
 */
export const RAW_SUMS_LIMIT = 3;

/** Every slot's mean within `limit` standard deviations of zero (and the variance finite). */
export function rawStatisticsExact(mean: ArrayLike<number>, variance: ArrayLike<number>,
                                   limit = RAW_MEAN_LIMIT): boolean {
  for (let i = 0; i < mean.length; i++) {
    if (!(Number.isFinite(variance[i]) && Math.abs(mean[i]) <= limit * Math.sqrt(variance[i]))) return false;
  }
  return true;
}

let mklLayerNormWorks: boolean | undefined;

/** Whether `_MklLayerNorm` runs here (TensorFlow's oneDNN CPU builds); probed once. */
export function mklLayerNormAvailable(e: Eager): boolean {
  if (e.gpu) return false;
  if (mklLayerNormWorks === undefined) {
    try {
      const y = e.read(e.mklLayerNorm(e.f32([1, 3], [1, 2]), e.f32([1, 1], [2]), e.f32([0, 0], [2]), 0));
      mklLayerNormWorks = Math.abs(y[0] + 1) < 1e-6 && Math.abs(y[1] - 1) < 1e-6;
    } catch {
      mklLayerNormWorks = false;
    }
  }
  return mklLayerNormWorks;
}

/** Which native paths the kernels may take (see `nativePathFlags`). */
export interface NativePaths {
  /** `_MklLayerNorm` for LayerNorm's forward and its backward's x̂, when the build has it. */
  mklLayerNorm: boolean;
  /** `FusedBatchNormV3`/`FusedBatchNormGradV3` for BatchNorm (and InstanceNorm, channels first). */
  fusedBatchNorm: boolean;
  /** ... on channels-first views too: on GPUs only (`'gpu'`), `'always'` or `'never'`. */
  fusedBatchNormChannelsFirst: 'gpu' | 'always' | 'never';
  /** Raw `x` (no `x − shift` pass) when the statistics allow it (`RAW_SUMS_LIMIT`, `RAW_MEAN_LIMIT`). */
  rawInputs: boolean;
}

const PATH_FLAGS: Record<keyof NativePaths, string> = {
  mklLayerNorm: NORMS_TF_MKL_LAYER_NORM,
  fusedBatchNorm: NORMS_TF_FUSED_BATCH_NORM,
  fusedBatchNormChannelsFirst: NORMS_TF_FBN_CHANNELS_FIRST,
  rawInputs: NORMS_TF_RAW_INPUTS,
};

/** The tfjs flags (src/flags.ts) that set these paths, for `withFlags`/`setFlags`. */
export function nativePathFlags(paths: Partial<NativePaths>): Record<string, boolean | string> {
  const flags: Record<string, boolean | string> = {};
  for (const [k, v] of Object.entries(paths)) flags[PATH_FLAGS[k as keyof NativePaths]] = v;
  return flags;
}

/** The paths the flags allow now. */
export const nativePaths: Readonly<NativePaths> = {
  get mklLayerNorm() { return env().getBool(NORMS_TF_MKL_LAYER_NORM); },
  get fusedBatchNorm() { return env().getBool(NORMS_TF_FUSED_BATCH_NORM); },
  get fusedBatchNormChannelsFirst() { return env().getString(NORMS_TF_FBN_CHANNELS_FIRST) as NativePaths['fusedBatchNormChannelsFirst']; },
  get rawInputs() { return env().getBool(NORMS_TF_RAW_INPUTS); },
};

export interface FbnPlan {
  format: string;
  /** Shape `x` takes for the op. */
  shape: number[];
  /** FBN channels = tile · C (InstanceNorm: one channel per (sample, channel)). */
  tile: number;
  channels: number;
}

/**
 * Whether `FusedBatchNorm*` takes channels-first views. cuDNN runs NCHW natively; TensorFlow's
 * CPU kernels transpose NCHW to NHWC and back around the op, which made BatchNorm NCHW and
 * InstanceNorm NCHW 1.6–1.8× slower than the reductions (docs/tensorflow.md).
 */
export function channelsFirstFbn(gpu: boolean): boolean {
  const m = nativePaths.fusedBatchNormChannelsFirst;
  return m === 'gpu' ? gpu : m === 'always';
}

/** How `FusedBatchNormV3` serves this view, or null. */
export function fbnPlan(L: NormLayout, gpu: boolean): FbnPlan | null {
  if (!nativePaths.fusedBatchNorm) return null;
  const {v, shape} = L;
  if (v.groups !== v.C || v.count < 2 || L.rowcol) return null;
  const rank = shape.length;
  const simple = sameShape(L.W, shape);
  if (!v.perSample) {
    if (v.channelsLast || v.S === 1) {
      if (simple && v.channelsLast && (rank === 4 || rank === 5)) {
        return {format: rank === 4 ? 'NHWC' : 'NDHWC', shape, tile: 1, channels: v.C};
      }
      return {format: 'NHWC', shape: [1, v.N * v.S, 1, v.C], tile: 1, channels: v.C};
    }
    if (!channelsFirstFbn(gpu)) return null;
    if (simple && (rank === 4 || rank === 5)) return {format: rank === 4 ? 'NCHW' : 'NCDHW', shape, tile: 1, channels: v.C};
    return {format: 'NCHW', shape: [v.N, v.C, v.S, 1], tile: 1, channels: v.C};
  }
  // InstanceNorm with channels first: a batch norm of the [N·C, S] rows.
  if (!v.channelsLast && v.S > 1 && channelsFirstFbn(gpu)) return {format: 'NCHW', shape: [1, v.N * v.C, v.S, 1], tile: v.N, channels: v.N * v.C};
  return null;
}
