/**
 * Registers tfjs-norms' kernels for the `wasm` backend (and every gradient). Import it for its
 * side effect after `@tensorflow/tfjs-backend-wasm`:
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs';
 * import '@tensorflow/tfjs-backend-wasm';
 * import {batchNorm} from 'tfjs-norms';
 * import 'tfjs-norms/wasm';
 * await tf.setBackend('wasm');
 * ```
 *
 * The kernels run the cpu kernels' fused loops on views of the wasm heap, as a WebAssembly SIMD
 * build once it has loaded (asynchronously: `await wasmSimdReady()` after `setBackend` to wait for
 * it; the JavaScript loops serve until then; docs/kernels.md).
 * Without this import the ops still run on wasm, as compositions of tfjs kernels.
 */
import '../kernels/wasm/register_all.js';
import './gradients/register_all.js';

export {wasmKernelConfigs, wasmSimdReady} from '../kernels/wasm/register_all.js';

/** True once the `wasm` kernels are registered (by importing this module). */
export const wasmKernelsRegistered = true;
