import {clone, op, type Tensor, type Tensor1D, type Tensor2D} from '@tensorflow/tfjs-core';
import type {CollectiveGroup} from '../collective/group.js';
import {batchNorm, checkTrainingCount} from './batch_norm.js';
import {channelNormArgs} from './channel_args.js';
import {syncBatchNorm} from './sync_batch_norm.js';
import type {NormOptions} from './types.js';
import {checkOptions, fail, floatInput} from './validate.js';

/** A sparse COO tensor with dense channels last, as Paddle's sparse tensors. */
export interface SparseCoo {
  /** int32 `[sparseRank, nnz]`: the coordinates of each stored entry. */
  indices: Tensor2D;
  /** float32 `[nnz, C]`: the channel values of each stored entry. */
  values: Tensor2D;
  /** The dense shape, `[...sparse dims, C]`. */
  shape: number[];
}

export interface SparseBatchNormOptions extends NormOptions {
  training: boolean;
  mean?: Tensor1D;
  variance?: Tensor1D;
  /** Synchronize training statistics over this group's ranks (Paddle's sparse SyncBatchNorm). */
  group?: CollectiveGroup;
}

export interface SparseBatchNormResult {
  output: SparseCoo;
  /** The batch mean (training) or the given `mean` tensor itself (inference). */
  mean: Tensor1D;
  /** The biased batch variance (training) or the given `variance` tensor itself (inference). */
  variance: Tensor1D;
}

const OPTIONS = ['training', 'gamma', 'beta', 'epsilon', 'dataFormat', 'activation', 'alpha', 'mean', 'variance',
  'group'] as const;

function checkCoo(name: string, input: SparseCoo): void {
  if (typeof input !== 'object' || input === null || !input.indices || !input.values || !Array.isArray(input.shape)) {
    fail(name, `'input' must be {indices, values, shape} (sparse COO)`);
  }
  const {indices, values, shape} = input;
  if (indices.dtype !== 'int32' || indices.rank !== 2) {
    fail(name, `'indices' must be an int32 tensor of shape [sparseRank, nnz], got ${indices.dtype} [${indices.shape}]`);
  }
  floatInput(name, 'values', values, 2, 2);
  const [sparseRank, nnz] = indices.shape;
  if (values.shape[0] !== nnz) {
    fail(name, `'values' must have one row per stored entry: ${nnz} indices, ${values.shape[0]} rows`);
  }
  if (shape.length !== sparseRank + 1 || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    fail(name, `'shape' must list ${sparseRank + 1} non-negative integers (sparse dims, then channels), got [${shape}]`);
  }
  if (shape[sparseRank] !== values.shape[1]) {
    fail(name, `the last dimension of 'shape' (${shape[sparseRank]}) must equal the channels of 'values' (${values.shape[1]})`);
  }
}

/**
 * Batch normalization of a sparse COO tensor (Paddle's `paddle.sparse.nn.BatchNorm` and
 * `SyncBatchNorm`): the stored values `[nnz, C]` are normalized per channel over the stored
 * entries only, `y = act((v - mean[c]) / sqrt(variance[c] + epsilon) * gamma[c] + beta[c])`;
 * `indices` and `shape` pass through. `training: true` uses the values' statistics (over every
 * rank's values with `group`), `training: false` the given `mean` and `variance`, which are
 * returned themselves (not copies).
 *
 * ```js
 * const {output} = tfnorms.sparseBatchNorm({indices, values, shape: [1, 64, 64, 64, 16]}, {training: true});
 * ```
 */
function sparseBatchNorm_(input: SparseCoo, opts: SparseBatchNormOptions): SparseBatchNormResult {
  const name = 'sparseBatchNorm';
  if (opts === undefined) fail(name, `options with 'training' are required`);
  checkOptions(name, opts, OPTIONS);
  checkCoo(name, input);
  if (opts.dataFormat !== undefined && opts.dataFormat !== 'NHWC') {
    fail(name, `sparse COO values are channels last: 'dataFormat' must be 'NHWC', got ${JSON.stringify(opts.dataFormat)}`);
  }
  const {group, ...rest} = opts;
  // Check the options under this op's name (batchNorm and syncBatchNorm would name themselves).
  channelNormArgs(name, input.values, rest, {groups: 0, perSample: false});
  if (opts.training && !(group && group.worldSize > 1)) checkTrainingCount(name, input.values.shape[0], input.values.shape);
  let r: {y: Tensor; mean: Tensor1D; variance: Tensor1D};
  if (opts.training && group && group.worldSize > 1) {
    const {training: _t, mean: _m, variance: _v, ...syncOpts} = rest;
    r = syncBatchNorm(input.values, {...syncOpts, group});
  } else {
    r = batchNorm(input.values, rest);
  }
  return {
    output: {indices: clone(input.indices), values: r.y as Tensor2D, shape: [...input.shape]},
    mean: r.mean,
    variance: r.variance,
  };
}

export const sparseBatchNorm = op({sparseBatchNorm_});
