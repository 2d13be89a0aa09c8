// Rank for the data-parallel optimizer test: a dense model, weights broadcast from rank 0, then
// SGD steps on this rank's shard through distributedOptimizer; posts the final weights.
const {parentPort, workerData} = require('node:worker_threads');
const tf = require('@tensorflow/tfjs');
const norms = require('../../../dist/cjs/src/index.js');

tf.env().set('IS_TEST', true);
async function main() {
  await tf.setBackend('cpu');
  const {handle, rank, x, y, steps, bucketBytes} = workerData;
  const group = new norms.collective.CollectiveGroup(norms.collective.joinThreadGroup(handle, rank));
  const model = tf.sequential({layers: [tf.layers.dense({inputShape: [3], units: 2,
    kernelInitializer: tf.initializers.randomNormal({seed: 100 + rank})})]});
  norms.collective.broadcastVariables(model.weights, {group});
  const initial = model.getWeights().map((w) => Array.from(w.dataSync()));
  model.compile({optimizer: norms.collective.distributedOptimizer(tf.train.sgd(0.1), {group, bucketBytes}), loss: 'meanSquaredError'});
  await model.fit(tf.tensor2d(x), tf.tensor2d(y), {epochs: steps, batchSize: x.length, shuffle: false, verbose: 0});
  parentPort.postMessage({initial, final: model.getWeights().map((w) => Array.from(w.dataSync()))});
  group.destroy();
}
main();
