/**
 * Candidate op sequences of the tensorflow kernels that are no path of ours (so no flag selects
 * them), run on raw TensorFlow handles as the kernels would run them: timed next to the chosen
 * paths in the tensorflow section's "Kernel paths measured" table (forward only).
 */
import type * as tfType from '@tensorflow/tfjs';
import {Eager, nodeBackend, type H} from '../../kernels/tensorflow/tf_exec.js';

type TF = typeof tfType;
type T = tfType.Tensor;

/** Runs `f` on a fresh `Eager` and hands its result to tfjs as a tensor. */
function raw(tf: TF, f: (e: Eager) => H): T {
  const e = new Eager(nodeBackend(tf.backend()));
  try {
    return tf.engine().makeTensorFromTensorInfo(e.output(f(e))) as T;
  } finally {
    e.dispose();
  }
}

/**
 * oneDNN's `_MklFusedInstanceNorm` (statistics and apply in one op, over `x`'s spatial axes):
 * the forward only, as it has no statistics outputs for the gradient.
 */
export function mklInstanceNorm(tf: TF, nchw: boolean, epsilon = 1e-5) {
  return (x: T, gamma: T, beta: T): T => raw(tf, (e) => e.run('_MklFusedInstanceNorm', [
    {name: 'T', type: e.binding.TF_ATTR_TYPE, value: e.binding.TF_FLOAT}, e.float('epsilon', epsilon),
    {name: 'reduction_axes', type: e.binding.TF_ATTR_INT, value: nchw ? [2, 3] : [1, 2]}, e.str('_kernel', ''),
  ], [e.input(x), e.input(gamma), e.input(beta)])[0]);
}

/**
 * RMSNorm as the kernel ran it before: the per-row scalars in TensorFlow (`Square`, `Mul`,
 * `AddV2`, `Rsqrt` on `[rows]`) and `Reshape`s to `[rows, D]` (11 ops).
 */
export function rmsNormTfScalars(tf: TF, epsilon = 1e-6) {
  return (x: T, gamma: T): T => raw(tf, (e) => {
    const D = x.shape[x.shape.length - 1]!;
    const rows = x.size / D;
    const x2 = e.reshape(e.input(x), [rows, D]);
    const n = e.reduce('EuclideanNorm', x2, [1]);
    const inv = e.run1('Rsqrt', [e.add(e.mul(e.run1('Square', [n]), e.f32([1 / D], [])), e.f32([epsilon], []))]);
    const t = e.mul(x2, e.reshape(inv, [rows, 1]));
    return e.reshape(e.mul(t, e.reshape(e.input(gamma), [1, D])), x.shape);
  });
}

/**
 * RMSNorm with the per-column `gamma` in `FusedBatchNormV3` (inference, NHWC `[1, rows, 1, D]`,
 * mean 0 and variance 1 − ε, so that its `rsqrt(variance + ε)` is 1) after the per-row `Mul`.
 */
export function rmsNormFbnGamma(tf: TF, epsilon = 1e-6) {
  return (x: T, gamma: T): T => raw(tf, (e) => {
    const D = x.shape[x.shape.length - 1]!;
    const rows = x.size / D;
    const xh = e.input(x);
    const n = e.read(e.reduce('EuclideanNorm', xh, [x.shape.length - 1]));
    const inv = Float32Array.from(n, (v) => 1 / Math.sqrt((v * v) / D + epsilon));
    const t = e.mul(xh, e.f32(inv, [...x.shape.slice(0, -1), 1]));
    const fbnEps = 1e-3;
    const fbn = e.fusedBatchNorm(e.reshape(t, [1, rows, 1, D]), e.input(gamma), e.f32(new Float32Array(D), [D]),
      e.f32(new Float32Array(D), [D]), e.f32(new Float32Array(D).fill(1 - fbnEps), [D]), fbnEps, 'NHWC', false);
    return e.reshape(fbn.y, x.shape);
  });
}
