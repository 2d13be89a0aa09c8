/**
 * `GroupNormalization` (Keras 3's arguments and defaults; also loads TF-Addons' and Keras'
 * class names) and `InstanceNormalization`.
 */
import {tidy, type Tensor, type serialization} from '@tensorflow/tfjs-core';
import {groupNorm} from '../ops/group_norm.js';
import {instanceNorm} from '../ops/instance_norm.js';
import {shown} from '../ops/validate.js';
import {
  affineWeights, channelAxisOf, channelFormat, checkLayerArgs, NormLayer, type AffineArgs, type ChannelAxis, type Kwargs,
} from './norm_layer.js';

export interface GroupNormalizationArgs extends AffineArgs {
  /** Number of groups; -1 = one per channel (instance norm). Default 32. */
  groups?: number;
  /** Channel axis: -1 (default) or 1; a one-element list (`[3]`) too. */
  axis?: ChannelAxis;
  /** Default 1e-3. */
  epsilon?: number;
}

const ARGS = ['groups', 'axis', 'epsilon', 'center', 'scale', 'betaInitializer', 'gammaInitializer',
  'betaRegularizer', 'gammaRegularizer', 'betaConstraint', 'gammaConstraint'];

export class GroupNormalization extends NormLayer {
  static className = 'GroupNormalization';
  readonly groups: number;
  /** As given (an integer or a one-element list), so configs round-trip. */
  readonly axis: ChannelAxis;

  constructor(args: GroupNormalizationArgs = {}, layer = 'groupNormalization') {
    checkLayerArgs(layer, args, ARGS);
    super(args, 1e-3);
    this.groups = args.groups ?? 32;
    this.axis = args.axis ?? -1;
    channelAxisOf(layer, this.axis);
    if (!Number.isInteger(this.groups) || (this.groups < 1 && this.groups !== -1)) {
      throw new Error(`${layer}: 'groups' must be a positive integer or -1, got ${shown(args.groups)}`);
    }
  }

  override build(inputShape: (number | null)[] | (number | null)[][]): void {
    const {C} = channelFormat(this.layerName(), inputShape, this.axis);
    if (this.groups !== -1 && C % this.groups !== 0) {
      throw new Error(`groupNormalization: 'groups' (${this.groups}) must divide the number of channels (${C})`);
    }
    this.buildAffine([C]);
    this.built = true;
  }

  override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
    return tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const {C, dataFormat} = channelFormat(this.layerName(), x.shape, this.axis);
      const opts = {epsilon: this.epsilon, dataFormat, ...affineWeights(this)};
      return groupNorm(x, {...opts, groups: this.groups === -1 ? C : this.groups});
    });
  }

  override getConfig(): serialization.ConfigDict {
    return {...this.affineConfig(), groups: this.groups, axis: this.axis, ...super.getConfig()};
  }
}

/** TF-Addons' GroupNormalization (same arguments). */
export class AddonsGroupNormalization extends GroupNormalization {
  static override className = 'Addons>GroupNormalization';
}

export type InstanceNormalizationArgs = Omit<GroupNormalizationArgs, 'groups'>;

/** Statistics per sample and channel over the spatial axes (rank 3 to 5). */
export class InstanceNormalization extends GroupNormalization {
  static override className = 'InstanceNormalization';

  constructor(args: InstanceNormalizationArgs & {groups?: number} = {}) {
    // TF-Addons writes groups: -1 into its InstanceNormalization configs.
    const {groups, ...rest} = args;
    if (groups !== undefined && groups !== -1) {
      throw new Error(`instanceNormalization: 'groups' must be -1 when given, got ${groups}`);
    }
    super({...rest, groups: -1}, 'instanceNormalization');
  }

  override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
    return tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const {dataFormat} = channelFormat(this.layerName(), x.shape, this.axis);
      return instanceNorm(x, {epsilon: this.epsilon, dataFormat, ...affineWeights(this)});
    });
  }

  override getConfig(): serialization.ConfigDict {
    const {groups: _g, ...config} = super.getConfig();
    return config;
  }
}

/** TF-Addons' InstanceNormalization. */
export class AddonsInstanceNormalization extends InstanceNormalization {
  static override className = 'Addons>InstanceNormalization';
}
