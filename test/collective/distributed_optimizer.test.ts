/**
 * Data-parallel training with distributedOptimizer: replicas start equal (broadcastVariables)
 * and stay equal, and match one model trained on the concatenated batch.
 */
import * as tf from '@tensorflow/tfjs';
import {Worker} from 'node:worker_threads';
import {join} from 'node:path';
import {collective} from '../../src/index.js';

test('two ranks train the model one process trains on the whole batch', async () => {
  await tf.setBackend('cpu');
  const X = Array.from({length: 8}, (_, i) => [Math.sin(i), Math.cos(i), i / 8]);
  const Y = X.map(([a, b, c]) => [a + 2 * b, c - a]);
  const handle = collective.createThreadGroup(2, {timeoutMs: 20000});
  const results = await Promise.all([0, 1].map((rank) => new Promise<{initial: number[][]; final: number[][]}>((resolve, reject) => {
    const w = new Worker(join(__dirname, 'workers', 'dp_worker.cjs'), {workerData: {
      handle, rank, x: X.slice(rank * 4, rank * 4 + 4), y: Y.slice(rank * 4, rank * 4 + 4), steps: 5}});
    w.once('message', (m) => { resolve(m); void w.terminate(); });
    w.once('error', reject);
  })));
  expect(results[1].initial).toEqual(results[0].initial);
  expect(results[1].final).toEqual(results[0].final);

  const single = tf.sequential({layers: [tf.layers.dense({inputShape: [3], units: 2})]});
  single.setWeights(results[0].initial.map((w, i) => tf.tensor(w, i === 0 ? [3, 2] : [2])));
  single.compile({optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError'});
  await single.fit(tf.tensor2d(X), tf.tensor2d(Y), {epochs: 5, batchSize: 8, shuffle: false, verbose: 0});
  single.getWeights().forEach((w, i) => Array.from(w.dataSync()).forEach((v, j) =>
    expect(v).toBeCloseTo(results[0].final[i][j], 5)));
}, 60000);

test('in a world of one the optimizer is the wrapped one', () => {
  const opt = collective.distributedOptimizer(tf.train.sgd(0.5));
  const v = tf.variable(tf.tensor1d([1, 2]));
  opt.minimize(() => tf.sum(tf.square(v)) as tf.Scalar);
  expect(Array.from(v.dataSync())).toEqual([0, 0]);
  expect(opt.getClassName()).toBe('DistributedOptimizer');
});
