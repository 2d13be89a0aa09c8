/** `LayerNormalization` with tfjs-layers' arguments and defaults, on the fused kernels. */
import {reshape, tidy, transpose, type Tensor, type serialization} from '@tensorflow/tfjs-core';
import {layerNorm} from '../ops/layer_norm.js';
import {shown} from '../ops/validate.js';
import {affineWeights, checkLayerArgs, NormLayer, type AffineArgs, type Kwargs} from './norm_layer.js';

export interface LayerNormalizationArgs extends AffineArgs {
  /**
   * Axis or axes to normalize: an integer or a list (Keras writes `[3]`). Default -1. Trailing
   * axes run the fused op directly; others (as tfjs-layers and Keras allow) through a transpose.
   * gamma and beta have the axes' sizes in the given order.
   */
  axis?: number | number[];
  /** Default 1e-3. */
  epsilon?: number;
}

export class LayerNormalization extends NormLayer {
  static className = 'NormsLayerNormalization';
  readonly axis: number | number[];

  constructor(args: LayerNormalizationArgs = {}) {
    checkLayerArgs('layerNormalization', args, ['axis', 'epsilon', 'center', 'scale', 'betaInitializer',
      'gammaInitializer', 'betaRegularizer', 'gammaRegularizer', 'betaConstraint', 'gammaConstraint']);
    super(args, 1e-3);
    this.axis = args.axis ?? -1;
    const list = Array.isArray(this.axis) ? this.axis : [this.axis];
    if (list.length === 0 || !list.every((a) => typeof a === 'number' && Number.isInteger(a))) {
      throw new Error(`layerNormalization: 'axis' must be an integer or a non-empty list of integers, got ${shown(args.axis)}`);
    }
  }

  /** The normalized axes, non-negative, in the given order (checked against `rank`). */
  private axes(rank: number): number[] {
    const list = Array.isArray(this.axis) ? this.axis : [this.axis];
    const axes = list.map((a) => (a < 0 ? a + rank : a));
    if (axes.some((a) => a < 0 || a >= rank) || new Set(axes).size !== axes.length) {
      throw new Error(`layerNormalization: 'axis' ${shown(this.axis)} must name distinct axes of inputs of rank ${rank}`);
    }
    return axes;
  }

  override build(inputShape: (number | null)[] | (number | null)[][]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
    // gamma/beta have the normalized axes' sizes in the given order, as in tfjs-layers and Keras.
    const shape = this.axes(s.length).map((a) => s[a]);
    if (shape.some((d) => d === null)) {
      throw new Error(`layerNormalization: the normalized axes must have defined sizes, got [${shape}]`);
    }
    this.buildAffine(shape as number[]);
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
    return tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const sorted = this.axes(x.rank).sort((a, b) => a - b);
      const k = sorted.length;
      // As tfjs-layers and Keras broadcast them: reshaped (not transposed) to the axes in increasing order.
      const paramShape = sorted.map((a) => x.shape[a]);
      const {gamma, beta} = affineWeights(this);
      const params = {...(gamma ? {gamma: reshape(gamma, paramShape)} : {}), ...(beta ? {beta: reshape(beta, paramShape)} : {})};
      const opts = {axes: Array.from({length: k}, (_, i) => i - k), epsilon: this.epsilon, ...params};
      if (sorted.every((a, i) => a === x.rank - k + i)) return layerNorm(x, opts);
      // Other axes (tfjs-layers and Keras allow any): normalize a transposed copy over its trailing axes.
      const perm = [...Array.from({length: x.rank}, (_, i) => i).filter((i) => !sorted.includes(i)), ...sorted];
      return transpose(layerNorm(transpose(x, perm), opts), perm.map((_, i) => perm.indexOf(i)));
    });
  }

  override getConfig(): serialization.ConfigDict {
    return {...this.affineConfig(), axis: this.axis, ...super.getConfig()};
  }
}
