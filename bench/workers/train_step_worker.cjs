// Bench rank (worker thread): times training steps of a small conv net whose norms are
// batchNorm (no communication) or syncBatchNorm over a thread group of two, same per-rank batch.
const {parentPort, workerData} = require('node:worker_threads');
const tf = require('@tensorflow/tfjs');
const norms = require('../../dist/cjs/src/index.js');

tf.env().set('IS_TEST', false);
const {handle, rank, steps, batch} = workerData;
const group = new norms.collective.CollectiveGroup(norms.collective.joinThreadGroup(handle, rank));

async function main() {
  await tf.setBackend('cpu');
  const v = (shape, seed) => tf.variable(tf.randomNormal(shape, 0, 0.3, 'float32', seed));
  const p = {
    k1: v([3, 3, 1, 8], 1), g1: tf.variable(tf.ones([8])), b1: tf.variable(tf.zeros([8])),
    k2: v([3, 3, 8, 16], 2), g2: tf.variable(tf.ones([16])), b2: tf.variable(tf.zeros([16])),
    w: v([16, 3], 3),
  };
  const x = tf.randomNormal([batch, 16, 16, 1], 0, 1, 'float32', 10 + rank);
  const labels = tf.oneHot(tf.tensor1d(Array.from({length: batch}, (_, i) => i % 3), 'int32'), 3);
  const opt = tf.train.sgd(0.01);
  const norm = (mode, h, gamma, beta) => (mode === 'sync'
    ? norms.syncBatchNorm(h, {gamma, beta, activation: 'relu', group}).y
    : norms.batchNorm(h, {training: true, gamma, beta, activation: 'relu'}).y);
  const step = (mode) => {
    const cost = opt.minimize(() => tf.tidy(() => {
      let h = norm(mode, tf.conv2d(x, p.k1, 1, 'same'), p.g1, p.b1);
      h = norm(mode, tf.conv2d(h, p.k2, 1, 'same'), p.g2, p.b2);
      return tf.losses.softmaxCrossEntropy(labels, tf.matMul(tf.mean(h, [1, 2]), p.w));
    }), true);
    cost.dataSync();
    cost.dispose();
  };
  const result = {};
  for (const mode of ['batchNorm', 'sync', 'batchNorm', 'sync']) {
    for (let i = 0; i < 3; i++) step(mode);
    // Start both ranks' timing together.
    group.allReduceSum(new Float64Array(1));
    const times = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      step(mode);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    result[mode] = Math.min(result[mode] ?? Infinity, times[times.length >> 1]);
  }
  group.destroy();
  parentPort.postMessage(result);
}
main();
