/**
 * In-Place ABN on the tensorflow backend: the PyTorch batch-norm fixtures with an invertible
 * activation, computed through the backward kernels' "from the output y" variant.
 */
import {tf, tfHandles, useTensorflow} from './support/tfnode.js';
import {inplaceABN} from '../../src/index.js';
import {checkCase, type NormOps} from '../support/fixtures.js';
import {loadFixtures} from '../support/load.js';
import type {Tensor} from '@tensorflow/tfjs-core';

beforeAll(async () => {
  await useTensorflow();
});

const invertible = loadFixtures('batch_norm').cases.filter((c) => c.opts.activation !== 'relu');
const asABN: NormOps = {
  batchNorm: (x: Tensor, o: object) => inplaceABN(x, {activation: 'linear', ...o} as never),
} as unknown as NormOps;

test.each(invertible.map((c) => [c.name, c] as const))('%s', (_n, c) => {
  expect(tf.getBackend()).toBe('tensorflow');
  const before = tf.memory().numTensors;
  const handles = tfHandles();
  expect(checkCase(tf as never, asABN, c)).toEqual([]);
  expect(tf.memory().numTensors).toBe(before);
  expect(tfHandles()).toBe(handles);
});
