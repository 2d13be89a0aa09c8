import type {Tensor, Tensor1D} from '@tensorflow/tfjs-core';
import type {NormActivation} from '../kernel_names.js';

export type DataFormat = 'NHWC' | 'NCHW';

/** Options shared by the channel-wise norms (batch, group, instance). */
export interface NormOptions {
  /** Scale, shape `[C]`; omitted = 1. */
  gamma?: Tensor;
  /** Offset, shape `[C]`; omitted = 0. */
  beta?: Tensor;
  /** Added to the variance before the square root. Default `1e-5`. */
  epsilon?: number;
  /** `'NHWC'` (default): channels on the last axis; `'NCHW'`: channels on axis 1. */
  dataFormat?: DataFormat;
  /** Fused after scale and offset. Default `'linear'`. */
  activation?: NormActivation;
  /** leakyRelu slope (default 0.01) or elu alpha (default 1). */
  alpha?: number;
}

export interface BatchNormOptions extends NormOptions {
  /** `true`: normalize with the batch statistics; `false`: with `mean` and `variance`. */
  training: boolean;
  /** Per-channel mean, required when `training` is false. */
  mean?: Tensor1D;
  /** Per-channel variance, required when `training` is false. */
  variance?: Tensor1D;
  /** Batch Renormalization (training only): moving `mean`/`stddev` and the clipping of `r` and `d`. */
  renorm?: RenormOptions;
}

export interface BatchNormResult {
  y: Tensor;
  /**
   * The batch mean (training, a new tensor the caller owns), or in inference the given `mean`
   * tensor itself (not a copy: dispose only `y`).
   */
  mean: Tensor1D;
  /**
   * The biased batch variance (training, a new tensor the caller owns), or in inference the
   * given `variance` tensor itself (not a copy).
   */
  variance: Tensor1D;
}

export interface GroupNormOptions extends NormOptions {
  /** Number of contiguous channel groups; must divide C. */
  groups: number;
}

export interface LayerNormOptions {
  /** Trailing axes to normalize over. Default `-1`. */
  axes?: number | number[];
  /** Scale with the shape of the normalized axes. */
  gamma?: Tensor;
  /** Offset with the shape of the normalized axes. */
  beta?: Tensor;
  /** Default `1e-5`. */
  epsilon?: number;
}

export interface RMSNormOptions {
  /** Trailing axes to normalize over. Default `-1`. */
  axes?: number | number[];
  /** Scale with the shape of the normalized axes. */
  gamma?: Tensor;
  /** Default `1e-6` (Keras's RMSNormalization). */
  epsilon?: number;
}

export interface RenormOptions {
  /** Moving mean `μ` (per channel). */
  mean: Tensor;
  /** Moving standard deviation `σ` (per channel). */
  stddev: Tensor;
  /** Upper clip of `r`. Default `Infinity`. */
  rMax?: number;
  /** Lower clip of `r`. Default `1 / rMax`. */
  rMin?: number;
  /** `d` is clipped to `[−dMax, dMax]`. Default `Infinity`. */
  dMax?: number;
}
