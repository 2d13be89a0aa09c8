/**
 * `BatchNormalization` and `SyncBatchNormalization` layers: tfjs-layers' arguments and
 * defaults, fused kernels, and the moving-statistics options of PyTorch and Paddle.
 */
import {add, mul, tidy, type Tensor, type Tensor1D, type serialization} from '@tensorflow/tfjs-core';
import type {LayerVariable} from '@tensorflow/tfjs-layers';
import type {CollectiveGroup} from '../collective/group.js';
import type {NormActivation} from '../kernel_names.js';
import {batchNorm} from '../ops/batch_norm.js';
import {syncBatchNorm} from '../ops/sync_batch_norm.js';
import {checkActivation, checkBoolean, shown} from '../ops/validate.js';
import {
  affineWeights, channelAxisOf, channelFormat, checkLayerArgs, NormLayer, type AffineArgs, type ChannelAxis, type Kwargs,
} from './norm_layer.js';

export interface BatchNormalizationArgs extends AffineArgs {
  /** Channel axis: -1 (channels last, default) or 1 (channels first); Keras's one-element list (`[3]`) too. */
  axis?: ChannelAxis;
  /** Keras convention `moving = momentum * moving + (1 - momentum) * batch`; null = cumulative average. Default 0.99. */
  momentum?: number | null;
  /** Default 1e-3. */
  epsilon?: number;
  movingMeanInitializer?: serialization.ConfigDict | string | serialization.Serializable;
  movingVarianceInitializer?: serialization.ConfigDict | string | serialization.Serializable;
  activation?: NormActivation;
  alpha?: number;
  /** Track the unbiased batch variance (PyTorch, OneFlow) instead of the biased one (Keras, Paddle). */
  unbiasedMovingVariance?: boolean;
  /** Always normalize with the moving statistics, also in training (Paddle's use_global_stats). */
  useGlobalStats?: boolean;
  /** Normalize with batch statistics also in inference (Paddle's trainable_statistics). */
  trainableStatistics?: boolean;
}

const BN_ARGS = ['axis', 'momentum', 'epsilon', 'center', 'scale', 'betaInitializer', 'gammaInitializer',
  'movingMeanInitializer', 'movingVarianceInitializer', 'betaRegularizer', 'gammaRegularizer',
  'betaConstraint', 'gammaConstraint', 'activation', 'alpha', 'unbiasedMovingVariance', 'useGlobalStats',
  'trainableStatistics'];

export class BatchNormalization extends NormLayer {
  static className = 'NormsBatchNormalization';
  /** As given (an integer or a one-element list), so configs round-trip. */
  readonly axis: ChannelAxis;
  readonly momentum: number | null;
  readonly activation: NormActivation;
  /** The activation's parameter, its default filled in (unused by 'linear' and 'relu'). */
  readonly alpha: number;
  readonly unbiasedMovingVariance: boolean;
  readonly useGlobalStats: boolean;
  readonly trainableStatistics: boolean;
  private movingMeanInit: serialization.Serializable;
  private movingVarianceInit: serialization.Serializable;
  protected movingMean!: LayerVariable;
  protected movingVariance!: LayerVariable;
  private numBatchesTracked: LayerVariable | null = null;

  constructor(args: BatchNormalizationArgs = {}, extraArgs: string[] = []) {
    checkLayerArgs('batchNormalization', args, [...BN_ARGS, ...extraArgs]);
    super(args, 1e-3);
    const layer = this.layerName();
    this.axis = args.axis ?? -1;
    channelAxisOf(layer, this.axis);
    if (args.momentum !== null && args.momentum !== undefined &&
        !(typeof args.momentum === 'number' && args.momentum >= 0 && args.momentum <= 1)) {
      throw new Error(`${layer}: 'momentum' must be in [0, 1] or null, got ${shown(args.momentum)}`);
    }
    this.momentum = args.momentum === undefined ? 0.99 : args.momentum;
    // The ops' rules and defaults (alpha 0.01 for leakyRelu, 1 for elu), checked now rather than at first call.
    ({activation: this.activation, alpha: this.alpha} = this.checkActivation(args.activation ?? undefined, args.alpha ?? undefined));
    this.unbiasedMovingVariance = checkBoolean(layer, 'unbiasedMovingVariance', args.unbiasedMovingVariance, false);
    this.useGlobalStats = checkBoolean(layer, 'useGlobalStats', args.useGlobalStats, false);
    this.trainableStatistics = checkBoolean(layer, 'trainableStatistics', args.trainableStatistics, false);
    this.movingMeanInit = this.initializer(args.movingMeanInitializer, 'zeros');
    this.movingVarianceInit = this.initializer(args.movingVarianceInitializer, 'ones');
  }

  /** The activation this layer fuses; In-Place ABN narrows it to invertible ones. */
  protected checkActivation(activation: unknown, alpha: unknown): {activation: NormActivation; alpha: number} {
    return checkActivation(this.layerName(), activation, alpha);
  }

  /**
   * Builds from a config as `tf.loadLayersModel` does; Keras's `synchronized: true` (statistics
   * over a tf.distribute strategy's replicas) gives a SyncBatchNormalization.
   */
  static override fromConfig<T extends serialization.Serializable>(
      cls: serialization.SerializableConstructor<T>, config: serialization.ConfigDict): T {
    const target = config.synchronized === true && (cls as unknown) === BatchNormalization ? SyncBatchNormalization : cls;
    return NormLayer.fromConfig(target as unknown as serialization.SerializableConstructor<T>, config);
  }

  override build(inputShape: (number | null)[] | (number | null)[][]): void {
    const {C} = channelFormat(this.layerName(), inputShape, this.axis);
    this.buildAffine([C]);
    this.movingMean = this.addWeight('moving_mean', [C], 'float32', this.movingMeanInit as never, undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [C], 'float32', this.movingVarianceInit as never, undefined, false);
    if (this.momentum === null) {
      this.numBatchesTracked = this.addWeight('num_batches_tracked', [], 'float32', this.initializer('zeros', 'zeros') as never,
                                              undefined, false);
    }
    this.built = true;
  }

  /** The batch statistics of `x` with the op this layer trains with. */
  protected batchStatistics(x: Tensor, opts: object): {y: Tensor; mean: Tensor1D; variance: Tensor1D; count: number} {
    const r = batchNorm(x, {...opts, training: true});
    return {...r, count: x.size / r.mean.size};
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const training = kwargs.training ?? false;
      const {dataFormat} = channelFormat(this.layerName(), x.shape, this.axis);
      const opts = {...affineWeights(this), epsilon: this.epsilon, dataFormat, activation: this.activation, alpha: this.alpha};
      const useBatch = !this.useGlobalStats && (training || this.trainableStatistics);
      if (!useBatch) {
        return batchNorm(x, {...opts, training: false, mean: this.movingMean.read() as Tensor1D,
          variance: this.movingVariance.read() as Tensor1D}).y;
      }
      const r = this.batchStatistics(x, opts);
      if (training) this.updateMovingStatistics(r.mean, r.variance, r.count);
      return r.y;
    });
  }

  protected updateMovingStatistics(mean: Tensor, variance: Tensor, count: number): void {
    tidy(() => {
      const v = this.unbiasedMovingVariance && count > 1 ? mul(variance, count / (count - 1)) : variance;
      let m: number;
      if (this.momentum === null) {
        // Cumulative moving average: the k-th batch gets weight 1/k.
        const k = this.numBatchesTracked!.read().dataSync()[0] + 1;
        this.numBatchesTracked!.write(add(this.numBatchesTracked!.read(), 1));
        m = 1 - 1 / k;
      } else {
        m = this.momentum;
      }
      const blend = (variable: LayerVariable, batch: Tensor) =>
        variable.write(add(mul(variable.read(), m), mul(batch, 1 - m)));
      blend(this.movingMean, mean);
      blend(this.movingVariance, v);
    });
  }

  override getConfig(): serialization.ConfigDict {
    return {
      ...this.affineConfig(),
      axis: this.axis,
      momentum: this.momentum,
      epsilon: this.epsilon,
      movingMeanInitializer: this.serialized(this.movingMeanInit),
      movingVarianceInitializer: this.serialized(this.movingVarianceInit),
      activation: this.activation,
      alpha: this.alpha,
      unbiasedMovingVariance: this.unbiasedMovingVariance,
      useGlobalStats: this.useGlobalStats,
      trainableStatistics: this.trainableStatistics,
      ...super.getConfig(),
    };
  }
}

export interface SyncBatchNormalizationArgs extends BatchNormalizationArgs {
  /** Ranks to synchronize with (not serialized). Default: the group set by `collective.init`. */
  group?: CollectiveGroup;
}

/**
 * Batch normalization whose training statistics cover every rank's batch (`syncBatchNorm`);
 * inference uses the moving statistics and makes no collective.
 */
export class SyncBatchNormalization extends BatchNormalization {
  static override className = 'SyncBatchNormalization';
  group: CollectiveGroup | undefined;

  constructor(args: SyncBatchNormalizationArgs = {}) {
    const {group, ...rest} = args;
    super(rest, []);
    this.group = group;
  }

  protected override batchStatistics(x: Tensor, opts: object) {
    return syncBatchNorm(x, {...opts, ...(this.group ? {group: this.group} : {})});
  }
}

