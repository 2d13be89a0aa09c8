/** Keras 3's `RMSNormalization` (className, `scale` weight, epsilon 1e-6), on the fused kernels. */
import {tidy, type Tensor, type serialization} from '@tensorflow/tfjs-core';
import type {LayerVariable} from '@tensorflow/tfjs-layers';
import {trailingAxes} from '../ops/layer_norm.js';
import {RMS_NORM_EPSILON, rmsNorm} from '../ops/rms_norm.js';
import {checkLayerArgs, NormLayer, type AffineArgs, type Kwargs} from './norm_layer.js';

export interface RMSNormalizationArgs extends Omit<AffineArgs, 'center' | 'scale' | 'betaInitializer' |
    'gammaInitializer' | 'betaRegularizer' | 'gammaRegularizer' | 'betaConstraint' | 'gammaConstraint'> {
  /** Trailing axis or axes to normalize. Default -1. */
  axis?: number | number[];
  /** Default 1e-6. */
  epsilon?: number;
}

/** `y = x / sqrt(mean(x², axis) + epsilon) · scale`, with one learned `scale` (ones initially). */
export class RMSNormalization extends NormLayer {
  static className = 'RMSNormalization';
  readonly axis: number | number[];
  scaleWeight: LayerVariable | null = null;

  constructor(args: RMSNormalizationArgs = {}) {
    checkLayerArgs('rmsNormalization', args, ['axis', 'epsilon']);
    super({...args, center: false, scale: false}, RMS_NORM_EPSILON);
    this.axis = args.axis ?? -1;
  }

  override build(inputShape: (number | null)[] | (number | null)[][]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
    const k = trailingAxes('rmsNormalization', this.axis, s.length, 'axis');
    const shape = s.slice(s.length - k);
    if (shape.some((d) => d === null)) {
      throw new Error(`rmsNormalization: the normalized axes must have defined sizes, got [${shape}]`);
    }
    this.scaleWeight = this.addWeight('scale', shape as number[], 'float32', this.initializer('ones', 'ones') as never,
                                      undefined, true);
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
    return tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return rmsNorm(x, {axes: this.axis, epsilon: this.epsilon, gamma: this.scaleWeight!.read()});
    });
  }

  override getConfig(): serialization.ConfigDict {
    return {axis: this.axis, epsilon: this.epsilon, ...super.getConfig()};
  }
}
