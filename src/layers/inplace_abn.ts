/**
 * `InPlaceABN`: batch normalization fused with an invertible activation (leakyRelu by default,
 * elu or linear), synchronized across ranks when a group is set.
 */
import type {Tensor} from '@tensorflow/tfjs-core';
import type {CollectiveGroup} from '../collective/group.js';
import type {NormActivation} from '../kernel_names.js';
import {batchNorm} from '../ops/batch_norm.js';
import {syncBatchNorm} from '../ops/sync_batch_norm.js';
import {BatchNormalization, type BatchNormalizationArgs} from './batch_normalization.js';

export interface InPlaceABNArgs extends BatchNormalizationArgs {
  /** 'leakyRelu' (default), 'elu' or 'linear'. */
  activation?: NormActivation;
  /** Default 0.01 (leakyRelu slope; elu alpha defaults to 1 when activation is 'elu' and alpha is unset). */
  alpha?: number;
  group?: CollectiveGroup;
}

const INVERTIBLE: NormActivation[] = ['leakyRelu', 'elu', 'linear'];

export class InPlaceABN extends BatchNormalization {
  static override className = 'InPlaceABN';
  group: CollectiveGroup | undefined;

  constructor(args: InPlaceABNArgs = {}) {
    const {group, ...rest} = args;
    const activation = rest.activation ?? 'leakyRelu';
    if (!INVERTIBLE.includes(activation)) {
      throw new Error(`inPlaceABN: 'activation' must be 'leakyRelu', 'elu' or 'linear' (invertible), got '${activation}'`);
    }
    const alpha = rest.alpha ?? (activation === 'leakyRelu' ? 0.01 : activation === 'elu' ? 1 : undefined);
    if (activation === 'leakyRelu' && alpha === 0) {
      throw new Error(`inPlaceABN: a leakyRelu slope of 0 is not invertible`);
    }
    super({...rest, activation, alpha}, []);
    this.group = group;
  }

  protected override batchStatistics(x: Tensor, opts: object) {
    if (this.group && this.group.worldSize > 1) return syncBatchNorm(x, {...opts, group: this.group});
    const r = batchNorm(x, {...opts, training: true});
    return {...r, count: x.size / r.mean.size};
  }
}
