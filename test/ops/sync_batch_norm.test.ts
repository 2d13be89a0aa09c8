/** syncBatchNorm in a world of one is batchNorm (same kernels, same values, no collective). */
import * as tf from '@tensorflow/tfjs';
import {batchNorm, collective, syncBatchNorm} from '../../src/index.js';
import {compare} from '../support/fixtures.js';
import {loadFixtures} from '../support/load.js';
import {useTestBackend} from '../support/backend.js';

beforeAll(async () => {
  await useTestBackend(tf);
});

const training = loadFixtures('batch_norm').cases.filter((c) => c.opts.training);

test.each(training.map((c) => [c.name, c] as const))('%s', (_n, c) => {
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const t = (f: {data: number[]; shape: number[]} | null) => (f ? tf.tensor(f.data, f.shape) : undefined);
    const x = t(c.inputs.x)!;
    const opts: Record<string, unknown> = {gamma: t(c.inputs.gamma), beta: t(c.inputs.beta)};
    for (const k of ['epsilon', 'dataFormat', 'activation', 'alpha']) if (c.opts[k] != null) opts[k] = c.opts[k];
    const r = syncBatchNorm(x, opts);
    expect(r.count).toBe(x.size / c.expected.mean!.data.length);
    const bad = [...compare('y', r.y.dataSync(), c.expected.y!), ...compare('mean', r.mean.dataSync(), c.expected.mean!)];
    const dx = tf.grad((xx: tf.Tensor) => syncBatchNorm(xx, opts).y)(x, t(c.inputs.dy));
    bad.push(...compare('dx', dx.dataSync(), c.expected.dx!));
    expect(bad).toEqual([]);
  });
  expect(tf.memory().numTensors).toBe(before);
});

test('argument errors are the same as batchNorm\'s, plus the group', () => {
  expect(() => syncBatchNorm(tf.ones([1, 3]))).toThrow(/syncBatchNorm: expected more than 1 value per channel/);
  expect(() => syncBatchNorm(tf.ones([4, 3]), {training: true} as never)).toThrow(/syncBatchNorm: unknown option 'training'/);
  expect(() => syncBatchNorm(tf.ones([4, 3]), {gamma: tf.ones([2])})).toThrow(/'gamma' must have shape \[3\]/);
  const g = new collective.CollectiveGroup(new collective.SingleProcessTransport());
  g.destroy();
  expect(() => syncBatchNorm(tf.ones([4, 3]), {group: g})).toThrow(/group has been destroyed/);
});

test('in a world of one it runs the batchNorm kernels directly', () => {
  const x = tf.randomNormal([8, 4, 4, 3]);
  const a = syncBatchNorm(x, {activation: 'relu'});
  const b = batchNorm(x, {training: true, activation: 'relu'});
  expect(tf.max(tf.abs(tf.sub(a.y, b.y))).dataSync()[0]).toBe(0);
  tf.dispose([x, a.y, a.mean, a.variance, b.y, b.mean, b.variance]);
});
