/**
 * Registers tfjs-norms' kernels for the `webgl` backend. Import it for its side effect after
 * `@tensorflow/tfjs-backend-webgl`. The webgl kernels are not written yet: until then the ops
 * run on whichever backend has their kernels (`cpu`).
 */
import './gradients/register_all.js';

export const webglKernelsRegistered = false;
