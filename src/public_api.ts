/**
 * What both builds of the main entry export (src/index.ts for Node, src/browser.ts for
 * browsers), everything but the `collective` namespace. Importing it registers the `cpu`
 * kernels and every gradient.
 */
import '../kernels/cpu/register_all.js';
import './gradients/register_all.js';

export * from './ops/index.js';
export * as layers from './layers/index.js';
export * as convert from './convert/index.js';
export * as kernelNames from './kernel_names.js';
export type {NormActivation} from './kernel_names.js';
export {version} from './version.js';
/** The tfjs environment flags of tfjs-norms (`tf.env().set(flags.NORMS_COMPOSITE, true)`, …). */
export * as flags from './flags.js';
export {enableTrainingFusedBatchNorm, disableTrainingFusedBatchNorm, type GraphOpRegistry, type GraphOpNode} from './graph_fused_batch_norm.js';
// The collective types the docs import from the package root (the values live in `collective`).
export type {CollectiveTransport} from './collective/transport.js';
export type {CollectiveGroup} from './collective/group.js';
export type {ThreadGroupHandle, ThreadGroupOptions} from './collective/thread_transport.js';
export type {InitFromEnvOptions, TcpOptions} from './collective/tcp_transport.js';
