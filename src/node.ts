/**
 * `tfjs-norms/node`: registers tfjs-norms' kernels for the `tensorflow` backend of
 * `@tensorflow/tfjs-node` and `@tensorflow/tfjs-node-gpu` (they share the backend name and
 * the JavaScript). Import it for its side effect, next to the tfjs-node package you use:
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-node';   // or '@tensorflow/tfjs-node-gpu'
 * import {batchNorm} from 'tfjs-norms';
 * import 'tfjs-norms/node';
 * ```
 *
 * Nothing here loads tfjs-node itself: the kernels reach TensorFlow through the backend object
 * the engine hands them. It also exports the Node-only parts of the API (the TCP transport),
 * for bundles that target Node but resolve the `browser` condition.
 */
import '../kernels/tensorflow/register_all.js';
import './gradients/register_all.js';

/** The kernel table registered above (for checks such as `tf.getKernel(name, 'tensorflow') === config`). */
export {tensorflowKernelConfigs} from '../kernels/tensorflow/register_all.js';
/** Opt-in fix for converted graph models with training-mode `FusedBatchNorm*` nodes (tfjs#6864). */
export {enableTrainingFusedBatchNorm, disableTrainingFusedBatchNorm} from './graph_fused_batch_norm.js';
/** The TCP transport of `collective` (the same functions as `collective.initFromEnv` / `TcpTransport` in Node). */
export {initFromEnv, TcpTransport, type InitFromEnvOptions, type TcpOptions} from './collective/tcp_transport.js';

/** True once the `tensorflow` kernels are registered (by importing this module). */
export const tensorflowKernelsRegistered = true;
