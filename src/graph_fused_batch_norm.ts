/**
 * Opt-in fix for tensorflow/tfjs#6864: graph models converted from TensorFlow whose
 * `FusedBatchNorm`/`FusedBatchNormV2`/`FusedBatchNormV3` nodes have `is_training: true` (a Keras
 * LayerNormalization becomes one: `x` reshaped to `[1, rows, features, 1]`, NCHW, empty mean and
 * variance). tfjs-converter maps every such node to `tf.batchNorm` with the node's `mean` and
 * `variance` inputs, ignoring `is_training` and `data_format`: tfjs-node's kernel then fails
 * ("When is_training=false, mean must have the same number of elements as the channels of x"),
 * and the other backends compute with empty statistics.
 *
 * `enableTrainingFusedBatchNorm(tf)` overrides those three ops in the converter's op registry
 * (`tf.registerOp`) with TensorFlow's semantics, computed by this package's `batchNorm` (every
 * backend with tfjs-norms kernels): batch statistics when `is_training` is true, the given ones
 * otherwise, in either `data_format`, with all six outputs.
 */
import {mul, reshape, scalar, add, tensor1d, tidy, type Tensor, type Tensor1D} from '@tensorflow/tfjs-core';
import {batchNorm} from './ops/batch_norm.js';

/** A graph node as tfjs-converter hands it to a registered op. */
export interface GraphOpNode {
  inputs: Tensor[];
  attrs: Record<string, unknown>;
}

/** What `enableTrainingFusedBatchNorm` needs of tfjs: tfjs-converter's op registry. */
export interface GraphOpRegistry {
  registerOp(name: string, opFunc: (node: GraphOpNode) => Tensor | Tensor[]): void;
  deregisterOp(name: string): void;
}

/** The TensorFlow ops overridden. */
export const FUSED_BATCH_NORM_OPS = ['FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3'] as const;

/**
 * An attribute with TensorFlow's default when the node lacks it. tfjs-converter gives
 * `undefined` for an attribute that is present but empty: in a GraphDef in JSON (proto3) that is
 * the field's zero value (false, 0, ''), not the op's default.
 */
function attr<T>(node: GraphOpNode, name: string, opDefault: T, zero: T): T {
  if (!(name in node.attrs)) return opDefault;
  const v = node.attrs[name];
  return v === undefined || v === null ? zero : (v as T);
}

/** TensorFlow's `FusedBatchNorm*` on one graph node: `[y, batch_mean, batch_variance, reserve_space_1..3]`. */
export function fusedBatchNormNode(node: GraphOpNode): Tensor[] {
  const [x, scale, offset, mean, variance] = node.inputs;
  const training = attr(node, 'is_training', true, false);
  const epsilon = attr(node, 'epsilon', 1e-4, 0);
  const format = String(attr(node, 'data_format', 'NHWC', '')).toUpperCase();
  const factor = attr(node, 'exponential_avg_factor', 1, 0);
  if (!['NHWC', 'NCHW', 'NDHWC', 'NCDHW'].includes(format)) {
    throw new Error(`tfjs-norms: FusedBatchNorm data_format '${format}' is not supported`);
  }
  const dataFormat = format.startsWith('NC') ? 'NCHW' : 'NHWC';
  return tidy(() => {
    const gamma = reshape(scale, [-1]) as Tensor1D;
    const beta = reshape(offset, [-1]) as Tensor1D;
    if (!training) {
      const r = batchNorm(x, {training: false, gamma, beta, epsilon, dataFormat,
        mean: reshape(mean, [-1]) as Tensor1D, variance: reshape(variance, [-1]) as Tensor1D});
      return [r.y, r.mean, r.variance, r.mean, r.variance, tensor1d([])];
    }
    const r = batchNorm(x, {training: true, gamma, beta, epsilon, dataFormat});
    // TensorFlow's batch_variance output is Bessel-corrected; the reserve spaces keep the biased one.
    const count = x.size / gamma.size;
    let batchMean: Tensor = r.mean;
    let batchVariance: Tensor = mul(r.variance, scalar(count > 1 ? count / (count - 1) : 1));
    if (factor !== 1 && mean.size > 0) {
      // Running averages: (1 − factor)·old + factor·batch.
      batchMean = add(mul(reshape(mean, [-1]), 1 - factor), mul(batchMean, factor));
      batchVariance = add(mul(reshape(variance, [-1]), 1 - factor), mul(batchVariance, factor));
    }
    return [r.y, batchMean, batchVariance, r.mean, r.variance, tensor1d([])];
  });
}

/**
 * Makes graph models loaded from now on run `FusedBatchNorm*` nodes as TensorFlow does (batch
 * statistics when `is_training` is true), on every backend with tfjs-norms kernels. Pass the
 * tfjs module that loads the models (`@tensorflow/tfjs`, `@tensorflow/tfjs-node`, the global
 * `tf`, or `@tensorflow/tfjs-converter`). Call it before `tf.loadGraphModel`; idempotent.
 */
export function enableTrainingFusedBatchNorm(tf: GraphOpRegistry): void {
  checkRegistry(tf);
  for (const name of FUSED_BATCH_NORM_OPS) tf.registerOp(name, fusedBatchNormNode);
}

/**
 * Gives the three ops back to tfjs-converter's own mapping (also removing any other custom op
 * registered under those names). Models loaded while enabled need it to stay enabled.
 */
export function disableTrainingFusedBatchNorm(tf: GraphOpRegistry): void {
  checkRegistry(tf);
  for (const name of FUSED_BATCH_NORM_OPS) tf.deregisterOp(name);
}

function checkRegistry(tf: GraphOpRegistry): void {
  if (typeof tf?.registerOp !== 'function' || typeof tf?.deregisterOp !== 'function') {
    throw new Error('tfjs-norms: pass the tfjs module that loads the graph model (it has registerOp and ' +
      'deregisterOp), e.g. enableTrainingFusedBatchNorm(tf) with tf from @tensorflow/tfjs-node');
  }
}
