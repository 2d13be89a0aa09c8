/**
 * A backend table without RMSNorm's kernels (as webgpu's) still runs rmsNorm: the composite
 * kernels fill exactly the standalone kernels the table lacks.
 */
import * as tf from '@tensorflow/tfjs';
import {registerBackendKernels} from '../../kernels/composite/install.js';
import {isCompositeKernel} from '../../kernels/composite/register_all.js';
import * as norms from '../../src/index.js';
import {NormsApply, NormsRMSNorm, NormsRMSNormGrad} from '../../src/kernel_names.js';
import {useTestBackend} from '../support/backend.js';

let backend: string;
beforeAll(async () => {
  backend = await useTestBackend(tf);
});

test('rmsNorm and its gradient run on a table without RMSNorm kernels, then on the table again', () => {
  const x = tf.tensor2d([[1, 2, 3, 4], [-1, 0.5, 0, 2]]);
  const gamma = tf.tensor1d([1, 0.5, 2, -1]);
  const f = (a: tf.Tensor, g: tf.Tensor) => norms.rmsNorm(a, {gamma: g}).square().sum();
  const want = tf.grads(f)([x, gamma]).map((t) => Array.from(t.dataSync()));
  const names = [NormsRMSNorm, NormsRMSNormGrad];
  const saved = names.map((n) => tf.getKernel(n, backend)!);
  names.forEach((n) => tf.unregisterKernel(n, backend));
  // Re-arranges the backend (its NormsApply stays as it was).
  registerBackendKernels([tf.getKernel(NormsApply, backend)!]);
  try {
    const before = tf.memory().numTensors;
    const got = tf.grads(f)([x, gamma]);
    expect(names.map((n) => isCompositeKernel(tf.getKernel(n, backend)))).toEqual([true, true]);
    got.forEach((t, i) => Array.from(t.dataSync()).forEach((v, j) => expect(v).toBeCloseTo(want[i][j], 5)));
    tf.dispose(got);
    expect(tf.memory().numTensors).toBe(before);
  } finally {
    names.forEach((n) => tf.unregisterKernel(n, backend));
    saved.forEach((k) => tf.registerKernel(k));
    registerBackendKernels([tf.getKernel(NormsApply, backend)!]);
  }
  tf.dispose([x, gamma]);
});
