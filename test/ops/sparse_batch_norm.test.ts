/**
 * sparseBatchNorm: batch norm over the stored values of a sparse COO tensor (PyTorch fixtures
 * of batch norm over the values matrix), indices and shape passing through; errors.
 */
import * as tf from '@tensorflow/tfjs';
import {sparseBatchNorm} from '../../src/index.js';
import {compare} from '../support/fixtures.js';
import {loadFixtures} from '../support/load.js';
import {useTestBackend} from '../support/backend.js';

beforeAll(async () => {
  await useTestBackend(tf);
});

// The values matrix is [nnz, C]: the rank-2 channels-last cases.
const cases = loadFixtures('batch_norm').cases.filter((c) => c.inputs.x!.shape.length === 2 && c.opts.dataFormat !== 'NCHW');

function coo(values: tf.Tensor2D, sparseShape: number[]) {
  const nnz = values.shape[0];
  const idx = Array.from({length: sparseShape.length}, (_, d) => Array.from({length: nnz}, (_, i) => (i * (d + 3)) % sparseShape[d]));
  return {indices: tf.tensor2d(idx, [sparseShape.length, nnz], 'int32'), values, shape: [...sparseShape, values.shape[1]]};
}

test.each(cases.map((c) => [c.name, c] as const))('%s', (_n, c) => {
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const t = (f: {data: number[]; shape: number[]} | null) => (f ? tf.tensor(f.data, f.shape) : undefined);
    const input = coo(t(c.inputs.x) as tf.Tensor2D, [2, 5, 5]);
    const opts: Record<string, unknown> = {gamma: t(c.inputs.gamma), beta: t(c.inputs.beta), mean: t(c.inputs.mean), variance: t(c.inputs.variance)};
    for (const k of ['training', 'epsilon', 'activation', 'alpha']) if (c.opts[k] != null) opts[k] = c.opts[k];
    const {output, mean} = sparseBatchNorm(input, opts as never);
    expect(output.shape).toEqual(input.shape);
    expect(Array.from(output.indices.dataSync())).toEqual(Array.from(input.indices.dataSync()));
    const bad = compare('values', output.values.dataSync(), c.expected.y!);
    if (c.opts.training) bad.push(...compare('mean', mean.dataSync(), c.expected.mean!));
    const dv = tf.grad((v: tf.Tensor) => sparseBatchNorm({...input, values: v as tf.Tensor2D}, opts as never).output.values)(
        input.values, t(c.inputs.dy));
    bad.push(...compare('dvalues', dv.dataSync(), c.expected.dx!));
    expect(bad).toEqual([]);
  });
  expect(tf.memory().numTensors).toBe(before);
});

test.each([
  ['not COO', () => sparseBatchNorm({} as never, {training: true}), /'input' must be \{indices, values, shape\}/],
  ['float indices', () => sparseBatchNorm({indices: tf.zeros([2, 3]) as tf.Tensor2D, values: tf.ones([3, 2]) as tf.Tensor2D, shape: [4, 4, 2]}, {training: true}),
    /'indices' must be an int32 tensor of shape \[sparseRank, nnz\]/],
  ['rows mismatch', () => sparseBatchNorm({indices: tf.zeros([2, 3], 'int32') as tf.Tensor2D, values: tf.ones([4, 2]) as tf.Tensor2D, shape: [4, 4, 2]}, {training: true}),
    /one row per stored entry: 3 indices, 4 rows/],
  ['shape channels', () => sparseBatchNorm({indices: tf.zeros([2, 3], 'int32') as tf.Tensor2D, values: tf.ones([3, 2]) as tf.Tensor2D, shape: [4, 4, 5]}, {training: true}),
    /last dimension of 'shape' \(5\) must equal the channels of 'values' \(2\)/],
  ['NCHW', () => sparseBatchNorm({indices: tf.zeros([2, 3], 'int32') as tf.Tensor2D, values: tf.ones([3, 2]) as tf.Tensor2D, shape: [4, 4, 2]}, {training: true, dataFormat: 'NCHW'}),
    /'dataFormat' must be 'NHWC'/],
  ['one entry', () => sparseBatchNorm({indices: tf.zeros([2, 1], 'int32') as tf.Tensor2D, values: tf.ones([1, 2]) as tf.Tensor2D, shape: [4, 4, 2]}, {training: true}),
    /sparseBatchNorm: expected more than 1 value per channel/],
  ['gamma shape', () => sparseBatchNorm({indices: tf.zeros([2, 3], 'int32') as tf.Tensor2D, values: tf.ones([3, 2]) as tf.Tensor2D, shape: [4, 4, 2]}, {training: true, gamma: tf.ones([3])}),
    /sparseBatchNorm: 'gamma' must have shape \[2\]/],
] as const)('error: %s', (_n, fn, message) => {
  expect(fn).toThrow(message);
});
