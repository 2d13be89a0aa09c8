/**
 * Registers tfjs-norms' kernels for the `tensorflow` backend of `@tensorflow/tfjs-node` and
 * `@tensorflow/tfjs-node-gpu`. The native kernels are not written yet.
 */
import './gradients/register_all.js';

export const tensorflowKernelsRegistered = false;
