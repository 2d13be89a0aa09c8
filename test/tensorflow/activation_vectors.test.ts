/** The activation vector table (spec: src/activation.ts) through the tensorflow backend's kernels. */
import {tf, useTensorflow} from './support/tfnode.js';
import '../../src/index.js';
import '../../src/node.js';
import {runKernel} from '../../src/run_kernel.js';
import {ACTIVATION_VECTORS, mismatches, runActivationRow} from '../support/activation_vectors.js';

beforeAll(async () => {
  await useTensorflow();
});

test.each(ACTIVATION_VECTORS.map((r) => [r.activation, r.alpha, r] as const))('%s (alpha %s)', (_a, _b, row) => {
  expect(tf.getBackend()).toBe('tensorflow');
  const before = tf.memory().numTensors;
  const results = runActivationRow(tf as never, runKernel, row);
  expect(results.length).toBe(row.y.length > 0 ? 4 : 2);
  expect(results.flatMap(mismatches)).toEqual([]);
  expect(tf.memory().numTensors).toBe(before);
});
