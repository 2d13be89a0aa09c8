/**
 * Registers tfjs-norms' kernels for the `webgpu` backend (and every gradient). Import it for its
 * side effect after `@tensorflow/tfjs-backend-webgpu`:
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs';
 * import '@tensorflow/tfjs-backend-webgpu';
 * import {batchNorm} from 'tfjs-norms';
 * import 'tfjs-norms/webgpu';
 * await tf.setBackend('webgpu');
 * ```
 *
 * The kernels are WGSL programs run by the backend's program runner (docs/webgpu.md). Without
 * this import the ops still run on webgpu, as compositions of tfjs kernels.
 */
import '../kernels/webgpu/register_all.js';
import './gradients/register_all.js';

export {webgpuKernelConfigs} from '../kernels/webgpu/register_all.js';

/** True once the `webgpu` kernels are registered (by importing this module). */
export const webgpuKernelsRegistered = true;
