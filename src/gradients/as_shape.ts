import {reshape, type Tensor} from '@tensorflow/tfjs-core';

/**
 * `t` in `shape`: `t` itself when it has that shape already (a `reshape` would still run a
 * kernel: a TensorFlow `Reshape` op on the tensorflow backend, ~20 µs a call).
 */
export function asShape(t: Tensor, shape: readonly number[]): Tensor {
  const same = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
  return same ? t : reshape(t, shape.slice());
}
