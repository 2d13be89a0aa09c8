import {fill, op, type Tensor, type Tensor1D, type TensorLike, type Variable} from '@tensorflow/tfjs-core';
import {type CollectiveGroup, resolveGroup} from '../collective/group.js';
import {syncTraining} from '../gradients/sync_training.js';
import {INVERTIBLE_ACTIVATIONS} from '../activation.js';
import {type NormActivation, NormsABNApply, NormsABNTraining} from '../kernel_names.js';
import {normView} from '../norm_view.js';
import {runKernel} from '../run_kernel.js';
import {checkTrainingCount} from './batch_norm.js';
import {channelNormArgs} from './channel_args.js';
import type {BatchNormResult, NormOptions} from './types.js';
import {checkActivation, checkOptions, fail, paramInput} from './validate.js';

export interface InplaceABNOptions extends NormOptions {
  training: boolean;
  mean?: Tensor1D;
  variance?: Tensor1D;
  /** Synchronize the training statistics across this group's ranks (InPlace-ABN Sync). */
  group?: CollectiveGroup;
  /**
   * Release `x`'s memory as soon as `y` exists: the caller promises not to use `x` again (using
   * it afterwards throws an error that says it was released by `inPlace`).
   */
  inPlace?: boolean;
}

export interface InplaceABNResult extends BatchNormResult {
  /** Elements per channel the statistics cover (over every rank when synchronized). */
  count: number;
}

const OPTIONS = ['training', 'gamma', 'beta', 'epsilon', 'dataFormat', 'activation', 'alpha', 'mean', 'variance',
  'group', 'inPlace'] as const;
export const INVERTIBLE = INVERTIBLE_ACTIVATIONS;

function isVariable(x: unknown): x is Variable {
  return typeof x === 'object' && x !== null && 'trainable' in x && typeof (x as Variable).assign === 'function';
}

/** In-Place ABN's activation rules (op and layer): invertible, with an invertible `alpha`. */
export function checkInvertible(name: string, activation: unknown, alpha: unknown): {activation: NormActivation; alpha: number} {
  const a = checkActivation(name, activation ?? 'leakyRelu', alpha, INVERTIBLE);
  if (a.activation === 'leakyRelu' && a.alpha === 0) fail(name, `a leakyRelu slope ('alpha') of 0 is not invertible`);
  // y > 0 would come from both signs of z (spec: src/activation.ts).
  if (a.activation === 'leakyRelu' && a.alpha < 0) fail(name, `a negative leakyRelu slope ('alpha' ${a.alpha}) is not invertible`);
  if (a.activation === 'elu' && !(a.alpha > 0)) fail(name, `elu needs 'alpha' > 0 to be invertible`);
  return a;
}

/**
 * Disposes `x` and makes any later use of it (which tfjs would otherwise report as a TypeError
 * from deep inside the engine) throw a message that says what happened.
 */
function release(x: Tensor): void {
  x.dispose();
  const fail = () => {
    throw new Error(`inplaceABN: this tensor (shape [${x.shape}]) was released by 'inPlace: true' and must not be used again`);
  };
  // Ops reach the data through dataId; chained methods (x.add(1)) and reads check throwIfDisposed first.
  Object.defineProperty(x, 'dataId', {configurable: true, get: fail});
  Object.defineProperty(x, 'throwIfDisposed', {configurable: true, value: fail});
}

/**
 * In-Place Activated Batch Normalization (Rota Bulò et al., CVPR 2018): batch norm fused with an
 * invertible activation, `y = act((x - mean) / sqrt(variance + epsilon) * gamma + beta)` with
 * `act` leakyRelu (default, slope 0.01), elu or linear, whose backward pass reads only the
 * output: `z = act⁻¹(y)`, `x̂ = (z - beta) / gamma`. `x` is not kept for the gradient, and
 * `inPlace: true` releases it as soon as `y` exists. Values and gradients equal `batchNorm` with
 * the same activation; the backward pass divides by `sign(gamma) * max(|gamma|, epsilon)` so it
 * stays finite for gamma near zero (exact whenever |gamma| >= epsilon). With `group`, training
 * statistics are synchronized as in `syncBatchNorm` (dx is then this rank's slice of the
 * concatenated batch's gradient; dgamma/dbeta this rank's share). In inference the given `mean`
 * and `variance` are returned themselves (not copies).
 *
 * ```js
 * const {y} = tfnorms.inplaceABN(convOut, {training: true, gamma, beta, inPlace: true});
 * ```
 */
function inplaceABN_(x: Tensor | TensorLike, opts: InplaceABNOptions): InplaceABNResult {
  const name = 'inplaceABN';
  if (opts === undefined) fail(name, `options with 'training' are required`);
  checkOptions(name, opts, OPTIONS);
  if (typeof opts.training !== 'boolean') fail(name, `'training' must be true or false, got ${String(opts.training)}`);
  // Releasing a variable would dispose the model's weights (tfjs variables hold their memory).
  if (opts.inPlace && isVariable(x)) {
    fail(name, `'inPlace: true' cannot release 'x': it is the tf.Variable '${x.name}' (pass a tensor, or drop inPlace)`);
  }
  const a = channelNormArgs(name, x, {...opts, ...checkInvertible(name, opts.activation, opts.alpha)},
                            {groups: 0, perSample: false, activations: INVERTIBLE});
  const {C, attrs} = a;
  const gamma = a.gamma ?? fill([C], 1);
  const beta = a.beta ?? fill([C], 0);
  const group = opts.group ? resolveGroup(opts.group) : null;
  let result: InplaceABNResult;
  const localCount = normView(a.x.shape, attrs).count;
  if (opts.training && group !== null && group.worldSize > 1) {
    result = syncTraining(name, a.x, gamma, beta, attrs, C, group, true);
  } else if (opts.training) {
    checkTrainingCount(name, localCount, a.x.shape);
    const [y, mean, variance, shift, offset] = runKernel(NormsABNTraining, {x: a.x, gamma, beta}, attrs) as Tensor[];
    shift.dispose();
    offset.dispose();
    result = {y, mean: mean as Tensor1D, variance: variance as Tensor1D, count: localCount};
  } else {
    if (opts.mean == null || opts.variance == null) fail(name, `'mean' and 'variance' are required when 'training' is false`);
    const mean = paramInput(name, 'mean', opts.mean, [C], a.what)!;
    const variance = paramInput(name, 'variance', opts.variance, [C], a.what)!;
    const y = runKernel(NormsABNApply, {x: a.x, mean, variance, gamma, beta}, attrs) as Tensor;
    // The caller's statistics themselves, as batchNorm returns them in inference.
    result = {y, mean: mean as Tensor1D, variance: variance as Tensor1D, count: localCount};
  }
  // Nothing holds x for the gradient: releasing it frees its memory now.
  if (opts.inPlace && a.x === x) release(a.x);
  return result;
}

export const inplaceABN = op({inplaceABN_});
