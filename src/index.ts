/**
 * tfjs-norms: normalization ops, kernels and gradients for TensorFlow.js.
 *
 * Importing this module registers the `cpu` kernels and every gradient. Import
 * `tfjs-norms/webgl` or `tfjs-norms/node` for the other backends.
 */
import '../kernels/cpu/register_all.js';
import './gradients/register_all.js';

export * from './ops/index.js';
export * as collective from './collective/index.js';
export * as layers from './layers/index.js';
export * as convert from './convert/index.js';
export * as kernelNames from './kernel_names.js';
export type {NormActivation} from './kernel_names.js';
export {version} from './version.js';
/** The tfjs environment flags of tfjs-norms (`tf.env().set(flags.NORMS_COMPOSITE, true)`, …). */
export * as flags from './flags.js';
export {enableTrainingFusedBatchNorm, disableTrainingFusedBatchNorm, type GraphOpRegistry, type GraphOpNode} from './graph_fused_batch_norm.js';
