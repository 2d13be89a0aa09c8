/**
 * Registers tfjs-norms' kernels for the `webgl` backend (and every gradient). Import it for its
 * side effect after `@tensorflow/tfjs-backend-webgl` (or `@tensorflow/tfjs`):
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs';
 * import {batchNorm} from 'tfjs-norms';
 * import 'tfjs-norms/webgl';
 * ```
 *
 * The kernels are fused GLSL programs on packed textures (see docs/webgl.md). Where the context
 * cannot render to float32 textures they warn once and run as compositions of tfjs kernels.
 */
import '../kernels/webgl/register_all.js';
import './gradients/register_all.js';

export const webglKernelsRegistered = true;
