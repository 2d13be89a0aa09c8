/**
 * The argument checks and kernel attributes shared by every channel-wise norm (batch, sync
 * batch, group, instance, In-Place ABN).
 */
import type {Tensor, TensorLike} from '@tensorflow/tfjs-core';
import type {NormActivation, NormApplyAttrs} from '../kernel_names.js';
import {channelView} from './normalize.js';
import type {NormOptions} from './types.js';
import {channelAxis, checkActivation, checkDataFormat, checkEpsilon, floatInput, paramInput} from './validate.js';

export interface ChannelNormArgs {
  x: Tensor;
  C: number;
  attrs: NormApplyAttrs;
  gamma?: Tensor;
  beta?: Tensor;
  /** Describes a per-channel shape in messages. */
  what: string;
}

export function channelNormArgs(
    name: string, x: Tensor | TensorLike, opts: NormOptions,
    view: {groups: number; perSample: boolean; minRank?: number; activations?: readonly NormActivation[]}):
    ChannelNormArgs {
  const $x = floatInput(name, 'x', x, view.minRank ?? 2);
  const dataFormat = checkDataFormat(name, opts.dataFormat);
  const epsilon = checkEpsilon(name, opts.epsilon);
  const {activation, alpha} = checkActivation(name, opts.activation, opts.alpha, view.activations);
  const axis = channelAxis($x.rank, dataFormat);
  const C = $x.shape[axis];
  const what = `one value per channel, channel axis ${axis}`;
  const gamma = paramInput(name, 'gamma', opts.gamma, [C], what);
  const beta = paramInput(name, 'beta', opts.beta, [C], what);
  const attrs = {...channelView($x.rank, dataFormat, view.groups, view.perSample, C), epsilon, activation, alpha};
  return {x: $x, C, attrs, gamma, beta, what};
}
