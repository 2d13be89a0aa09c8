/**
 * What every normalization layer shares: tfjs-layers' `center`/`scale` arguments with their
 * initializers, regularizers and constraints, `epsilon`, argument checks, and the config.
 */
import {serialization, type Tensor} from '@tensorflow/tfjs-core';
import {layers, type LayerVariable} from '@tensorflow/tfjs-layers';
import type {DataFormat} from '../ops/types.js';
import {checkBoolean, checkEpsilon, shown} from '../ops/validate.js';
import {factoryName, fromKerasConfig} from './keras_config.js';
import {resolve, serialize, type Identifier} from './serialization.js';

type Id = serialization.ConfigDict | string | serialization.Serializable;

export interface AffineArgs {
  name?: string;
  trainable?: boolean;
  inputShape?: (number | null)[];
  batchInputShape?: (number | null)[];
  batchSize?: number;
  dtype?: 'float32';
  weights?: Tensor[];
  epsilon?: number;
  /** Learn an offset `beta`. Default true. */
  center?: boolean;
  /** Learn a scale `gamma`. Default true. */
  scale?: boolean;
  betaInitializer?: Id;
  gammaInitializer?: Id;
  betaRegularizer?: Id;
  gammaRegularizer?: Id;
  betaConstraint?: Id;
  gammaConstraint?: Id;
}

export interface Kwargs {
  training?: boolean;
  [key: string]: unknown;
}

// tf.layers.Layer's own arguments, and what deserialization adds.
const BASE_ARGS = ['name', 'trainable', 'inputShape', 'batchInputShape', 'batchSize', 'dtype', 'weights',
  'inputDType', 'customObjects'];

/** Throws for an argument the layer does not know (a typo would otherwise pass silently). */
export function checkLayerArgs(layer: string, args: object, allowed: string[]): void {
  for (const [k, v] of Object.entries(args ?? {})) {
    if (v !== undefined && !allowed.includes(k) && !BASE_ARGS.includes(k)) {
      throw new Error(`${layer}: unknown argument '${k}' (allowed: ${allowed.join(', ')})`);
    }
  }
}

/** A channel axis as tfjs-layers and Keras write it: an integer, or a list of one (`[3]`). */
export type ChannelAxis = number | number[];

/** Checks the form of a channel `axis` (an integer or a one-element list) and returns the integer. */
export function channelAxisOf(layer: string, axis: unknown): number {
  const a = Array.isArray(axis) && axis.length === 1 ? axis[0] as unknown : axis;
  if (typeof a !== 'number' || !Number.isInteger(a)) {
    throw new Error(`${layer}: 'axis' must be one channel axis, an integer or a one-element list, got ${shown(axis)}`);
  }
  return a;
}

/** The channel count and data format for a channel axis of -1/last or 1 (`axis` as given). */
export function channelFormat(layer: string, shape: readonly (number | null)[] | (number | null)[][], given: ChannelAxis):
    {C: number; dataFormat: DataFormat} {
  const s = (Array.isArray(shape[0]) ? shape[0] : shape) as (number | null)[];
  const rank = s.length;
  if (rank < 2 || rank > 5) throw new Error(`${layer}: inputs must have rank 2 to 5, got shape [${s}]`);
  const axis = channelAxisOf(layer, given);
  if (axis < -rank || axis >= rank) {
    throw new Error(`${layer}: 'axis' ${shown(given)} is out of range for inputs of rank ${rank}`);
  }
  const a = axis < 0 ? axis + rank : axis;
  if (a !== 1 && a !== rank - 1) {
    throw new Error(`${layer}: 'axis' must be the channel axis, 1 (channels first) or -1 (channels last), got ${shown(given)}`);
  }
  const C = s[a];
  if (C === null || C === undefined) throw new Error(`${layer}: the channel axis ${a} must have a defined size`);
  return {C, dataFormat: a === rank - 1 ? 'NHWC' : 'NCHW'};
}

/** `gamma`/`beta` of a layer as op options (absent when not learned). */
export function affineWeights(layer: NormLayer): {gamma?: Tensor; beta?: Tensor} {
  return {
    ...(layer.gamma ? {gamma: layer.gamma.read()} : {}),
    ...(layer.beta ? {beta: layer.beta.read()} : {}),
  };
}

export abstract class NormLayer extends layers.Layer {
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  gamma: LayerVariable | null = null;
  beta: LayerVariable | null = null;
  private readonly gammaInit: serialization.Serializable;
  private readonly betaInit: serialization.Serializable;
  private readonly gammaReg: serialization.Serializable | null;
  private readonly betaReg: serialization.Serializable | null;
  private readonly gammaCon: serialization.Serializable | null;
  private readonly betaCon: serialization.Serializable | null;

  constructor(args: AffineArgs, defaultEpsilon: number) {
    super(args as never);
    this.supportsMasking = true;
    // The ops' validators: one set of rules for layers and ops, checked here rather than at first call.
    const layer = this.layerName();
    this.epsilon = checkEpsilon(layer, args.epsilon ?? undefined, defaultEpsilon);
    this.center = checkBoolean(layer, 'center', args.center ?? undefined, true);
    this.scale = checkBoolean(layer, 'scale', args.scale ?? undefined, true);
    this.gammaInit = this.initializer(args.gammaInitializer, 'ones');
    this.betaInit = this.initializer(args.betaInitializer, 'zeros');
    this.gammaReg = resolve(args.gammaRegularizer as Identifier, 'regularizer');
    this.betaReg = resolve(args.betaRegularizer as Identifier, 'regularizer');
    this.gammaCon = resolve(args.gammaConstraint as Identifier, 'constraint');
    this.betaCon = resolve(args.betaConstraint as Identifier, 'constraint');
  }

  /** The factory's name, for messages. */
  protected layerName(): string {
    return factoryName(this.getClassName());
  }

  protected initializer(id: Id | undefined, fallback: string): serialization.Serializable {
    return resolve(id ?? fallback, 'initializer')!;
  }

  protected serialized(x: serialization.Serializable | null): serialization.ConfigDict | null {
    return serialize(x);
  }

  /** Adds `gamma` and `beta` of `shape` as `scale` and `center` ask. */
  protected buildAffine(shape: number[]): void {
    if (this.scale) {
      this.gamma = this.addWeight('gamma', shape, 'float32', this.gammaInit as never, this.gammaReg as never, true,
                                  this.gammaCon as never);
    }
    if (this.center) {
      this.beta = this.addWeight('beta', shape, 'float32', this.betaInit as never, this.betaReg as never, true,
                                 this.betaCon as never);
    }
  }

  protected affineConfig(): serialization.ConfigDict {
    return {
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      betaInitializer: serialize(this.betaInit),
      gammaInitializer: serialize(this.gammaInit),
      betaRegularizer: serialize(this.betaReg),
      gammaRegularizer: serialize(this.gammaReg),
      betaConstraint: serialize(this.betaCon),
      gammaConstraint: serialize(this.gammaCon),
    };
  }

  /**
   * Builds from a config, as `tf.loadLayersModel` does, accepting what Keras and TF-Addons
   * write (src/layers/keras_config.ts): a dtype policy object, and options that do not change
   * the computation.
   */
  static override fromConfig<T extends serialization.Serializable>(
      cls: serialization.SerializableConstructor<T>, config: serialization.ConfigDict): T {
    return new cls(fromKerasConfig(factoryName((cls as unknown as {className: string}).className), config));
  }

  override computeOutputShape(inputShape: (number | null)[] | (number | null)[][]): (number | null)[] | (number | null)[][] {
    return inputShape;
  }
}
