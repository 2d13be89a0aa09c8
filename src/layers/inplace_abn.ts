/**
 * `InPlaceABN`: batch normalization fused with an invertible activation (leakyRelu by default,
 * elu or linear), computed by `inplaceABN` so that the gradient reads only the output. Within a
 * model, the layer also releases its input's memory as soon as its output exists, where the
 * model graph gives that input no other consumer.
 */
import type {Tensor, Tensor1D, serialization} from '@tensorflow/tfjs-core';
import type {CollectiveGroup} from '../collective/group.js';
import type {NormActivation} from '../kernel_names.js';
import {checkInvertible, inplaceABN} from '../ops/inplace_abn.js';
import {checkBoolean} from '../ops/validate.js';
import {BatchNormalization, type BatchNormalizationArgs} from './batch_normalization.js';
import {affineWeights, channelFormat, type Kwargs} from './norm_layer.js';

export interface InPlaceABNArgs extends BatchNormalizationArgs {
  /** 'leakyRelu' (default), 'elu' or 'linear'. */
  activation?: NormActivation;
  /** leakyRelu slope (default 0.01) or elu alpha (default 1). */
  alpha?: number;
  /** Synchronize training statistics over this group's ranks (not serialized). */
  group?: CollectiveGroup;
  /**
   * Release the input's memory once the output exists when the graph gives the input no other
   * consumer (default true). Set false if that input is also one of the model's outputs.
   */
  inPlace?: boolean;
}

type GraphLayer = {
  inboundNodes: Array<{inboundLayers: GraphLayer[]}>;
  outboundNodes: unknown[];
  getClassName(): string;
};

export class InPlaceABN extends BatchNormalization {
  static override className = 'InPlaceABN';
  group: CollectiveGroup | undefined;
  readonly inPlace: boolean;

  constructor(args: InPlaceABNArgs = {}) {
    const {group, inPlace, ...rest} = args;
    super(rest, []);
    this.group = group;
    this.inPlace = checkBoolean(this.layerName(), 'inPlace', inPlace, true);
  }

  /** The op's rules: leakyRelu (default), elu or linear, with an invertible alpha. */
  protected override checkActivation(activation: unknown, alpha: unknown) {
    return checkInvertible(this.layerName(), activation, alpha);
  }

  /** True when this layer is the only consumer of its input in the model graph. */
  private inputIsOnlyOurs(): boolean {
    const self = this as unknown as GraphLayer;
    if (!this.inPlace || self.inboundNodes.length !== 1) return false;
    const producers = self.inboundNodes[0].inboundLayers;
    if (producers.length !== 1) return false;
    const producer = producers[0];
    return producer.getClassName() !== 'InputLayer' && producer.outboundNodes.length === 1;
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const training = kwargs.training ?? false;
    const {dataFormat} = channelFormat(this.layerName(), x.shape, this.axis);
    const useBatch = !this.useGlobalStats && (training || this.trainableStatistics);
    const opts = {
      ...affineWeights(this), epsilon: this.epsilon, dataFormat, activation: this.activation, alpha: this.alpha,
      inPlace: this.inputIsOnlyOurs(), ...(this.group ? {group: this.group} : {}),
    };
    const r = useBatch ? inplaceABN(x, {...opts, training: true})
      : inplaceABN(x, {...opts, training: false, mean: this.movingMean.read() as Tensor1D, variance: this.movingVariance.read() as Tensor1D});
    if (useBatch) {
      if (training) this.updateMovingStatistics(r.mean, r.variance, r.count);
      // Batch statistics are new tensors; in inference r.mean/r.variance are the moving variables.
      r.mean.dispose();
      r.variance.dispose();
    }
    return r.y;
  }

  override getConfig(): serialization.ConfigDict {
    return {...super.getConfig(), inPlace: this.inPlace};
  }
}
