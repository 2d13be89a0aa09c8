/**
 * RMSNorm's tensorflow kernels, Batch Renormalization and InstanceNorm running statistics on the
 * tensorflow backend: PyTorch fixtures (RMSNorm's in fixtures.test.ts), the TensorFlow ops a step runs, no leaked tensors or
 * TensorFlow handles.
 */
import {opsRun} from './support/ops_log.js';
import {materialize, tf, tfHandles, useTensorflow} from './support/tfnode.js';
import * as norms from '../../src/index.js';
import {movingStatsInFit, type MovingStatsCase} from '../support/layer_checks.js';
import {loadFixtures} from '../support/load.js';
import {checkRenormCase, type RenormCase} from '../support/renorm_fixtures.js';
import type {Tensor} from '@tensorflow/tfjs-core';

beforeAll(async () => {
  await useTensorflow();
});

test('an RMSNorm training step runs the native kernels: EuclideanNorm, MatMul, elementwise ops', () => {
  const x = tf.randomNormal([4, 6, 32]);
  const gamma = tf.randomNormal([32]);
  materialize(x, gamma);
  const handles = tfHandles();
  const {ops} = opsRun(() => tf.dispose(tf.grads((a: Tensor, g: Tensor) => norms.rmsNorm(a, {gamma: g}))([x, gamma])));
  expect(ops).toContain('EuclideanNorm');
  expect(ops.filter((o) => o === 'MatMul')).toHaveLength(2);
  expect(ops.filter((o) => /Transpose|Mean|Sum|Tile/.test(o))).toEqual([]);
  expect(tfHandles()).toBe(handles);
  tf.dispose([x, gamma]);
});

test('the RMSNorm forward is three TensorFlow ops: EuclideanNorm, then a Mul per row and a Mul by gamma', () => {
  const x = tf.randomNormal([2, 3, 32]);
  const gamma = tf.randomNormal([32]);
  materialize(x, gamma);
  const handles = tfHandles();
  const {ops} = opsRun(() => tf.dispose(norms.rmsNorm(x, {gamma})));
  expect(ops).toEqual(['EuclideanNorm', 'Mul', 'Mul']);
  expect(tfHandles()).toBe(handles);
  tf.dispose([x, gamma]);
});

const renorm = (loadFixtures('renorm') as unknown as {cases: RenormCase[]}).cases;

describe('renorm fixtures (torch autograd, r and d detached), tensorflow backend', () => {
  test.each(renorm.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    const before = tf.memory().numTensors;
    expect(checkRenormCase(tf as never, norms.batchNorm as never, c)).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('InstanceNormalization running statistics inside model.fit (torch.nn.InstanceNorm2d)', () => {
  const cases = (loadFixtures('instance_running_stats') as unknown as {cases: MovingStatsCase[]}).cases;
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const layer = norms.layers.instanceNormalization({...c.layer, center: true, scale: true} as never);
    expect(await movingStatsInFit(tf as never, layer, c)).toEqual([]);
  });
});
