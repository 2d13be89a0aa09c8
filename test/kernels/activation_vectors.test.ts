/** The activation vector table (spec: src/activation.ts) through this project's backend kernels. */
import * as tf from '@tensorflow/tfjs';
import '../../src/index.js';
import {runKernel} from '../../src/run_kernel.js';
import {ACTIVATION_VECTORS, mismatches, runActivationRow} from '../support/activation_vectors.js';
import {useTestBackend} from '../support/backend.js';

beforeAll(async () => {
  await useTestBackend(tf);
});

test.each(ACTIVATION_VECTORS.map((r) => [r.activation, r.alpha, r] as const))('%s (alpha %s)', (_a, _b, row) => {
  const before = tf.memory().numTensors;
  const results = runActivationRow(tf, runKernel, row);
  expect(results.length).toBe(row.y.length > 0 ? 4 : 2);
  expect(results.flatMap(mismatches)).toEqual([]);
  expect(tf.memory().numTensors).toBe(before);
});
