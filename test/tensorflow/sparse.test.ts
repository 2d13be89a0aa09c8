/**
 * sparseBatchNorm on the tensorflow backend: every batch-norm fixture case (training and
 * inference, both layouts, every rank) as batch norm over a sparse tensor's values matrix
 * `[nnz, C]` (PyTorch references): values, batch statistics and the gradients with respect to
 * the values, gamma, beta (and mean, variance in inference); indices and shape pass through;
 * no leaked tensors or TensorFlow handles.
 */
import {tf, tfHandles, useTensorflow} from './support/tfnode.js';
import {sparseBatchNorm, type SparseCoo} from '../../src/index.js';
import {checkCase, type NormOps} from '../support/fixtures.js';
import {loadFixtures} from '../support/load.js';
import {asValuesMatrix} from '../support/sync_checks.js';
import type {Tensor, Tensor2D} from '@tensorflow/tfjs-core';

beforeAll(async () => {
  await useTensorflow();
});

const cases = loadFixtures('batch_norm').cases.map(asValuesMatrix);

/** COO coordinates for nnz entries of a [4, 5, 6, C] tensor (repeats are allowed in COO). */
function indices(nnz: number): Tensor2D {
  const dims = [4, 5, 6];
  return tf.tensor2d(dims.map((d, k) => Array.from({length: nnz}, (_, i) => (i * (k + 2) + k) % d)), [3, nnz], 'int32');
}

/** sparseBatchNorm as a batchNorm over the values, for the fixture checker. */
function asBatchNorm(idx: Tensor2D): NormOps {
  const batchNorm = (values: Tensor, o: object) => {
    const input: SparseCoo = {indices: idx, values: values as Tensor2D, shape: [4, 5, 6, values.shape[1]!]};
    const {output, mean, variance} = sparseBatchNorm(input, o as never);
    return {y: output.values, mean, variance};
  };
  return {batchNorm} as unknown as NormOps;
}

test.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
  expect(tf.getBackend()).toBe('tensorflow');
  const before = tf.memory().numTensors;
  const handles = tfHandles();
  const idx = indices(c.inputs.x!.shape[0]);
  expect(checkCase(tf as never, asBatchNorm(idx), c)).toEqual([]);
  idx.dispose();
  expect(tf.memory().numTensors).toBe(before);
  expect(tfHandles()).toBe(handles);
});

test('indices and shape pass through; the output owns its indices', () => {
  const before = tf.memory().numTensors;
  const handles = tfHandles();
  const idx = indices(40);
  const values = tf.randomNormal([40, 3], 2, 3, 'float32', 7) as Tensor2D;
  const input = {indices: idx, values, shape: [4, 5, 6, 3]};
  const {output, mean, variance} = sparseBatchNorm(input, {training: true, activation: 'elu'});
  expect(output.shape).toEqual(input.shape);
  expect(output.shape).not.toBe(input.shape);
  expect(output.indices).not.toBe(idx);
  expect(output.indices.dtype).toBe('int32');
  expect(Array.from(output.indices.dataSync())).toEqual(Array.from(idx.dataSync()));
  tf.dispose([idx, values]);
  // Disposing the input leaves the output usable.
  expect(output.indices.shape).toEqual([3, 40]);
  expect(output.values.shape).toEqual([40, 3]);
  expect(Array.from(output.indices.dataSync()).length).toBe(120);
  tf.dispose([output.indices, output.values, mean, variance]);
  expect(tf.memory().numTensors).toBe(before);
  expect(tfHandles()).toBe(handles);
});
