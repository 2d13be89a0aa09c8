/** `LayerNormalization` with tfjs-layers' arguments and defaults, on the fused kernels. */
import {tidy, type Tensor, type serialization} from '@tensorflow/tfjs-core';
import {layerNorm, trailingAxes} from '../ops/layer_norm.js';
import {shown} from '../ops/validate.js';
import {affineWeights, checkLayerArgs, NormLayer, type AffineArgs, type Kwargs} from './norm_layer.js';

export interface LayerNormalizationArgs extends AffineArgs {
  /** Trailing axis or axes to normalize: an integer or a list (Keras writes `[3]`). Default -1. */
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

  override build(inputShape: (number | null)[] | (number | null)[][]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
    const k = trailingAxes('layerNormalization', this.axis, s.length, 'axis');
    const shape = s.slice(s.length - k);
    if (shape.some((d) => d === null)) {
      throw new Error(`layerNormalization: the normalized axes must have defined sizes, got [${shape}]`);
    }
    this.buildAffine(shape as number[]);
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
    return tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return layerNorm(x, {axes: this.axis, epsilon: this.epsilon, ...affineWeights(this)});
    });
  }

  override getConfig(): serialization.ConfigDict {
    return {...this.affineConfig(), axis: this.axis, ...super.getConfig()};
  }
}
