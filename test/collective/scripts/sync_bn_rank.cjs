// Rank script for the launcher and engine tests: joins the TCP group from the environment
// (whichever engine set it), runs syncBatchNorm forward and backward on its shard of every
// training case of test/fixtures/batch_norm.json (split as test/collective/splits.cjs says), and
// prints one JSON line per case. Started as a worker thread with {handle, rank} in workerData,
// it joins that thread group instead and posts the same records to its parent: the
// single-process run of the same job.
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const norms = require('../../../dist/cjs/src/index.js');
const {readFileSync} = require('node:fs');
const {join} = require('node:path');
const {splits} = require('../splits.cjs');
const {isMainThread, parentPort, workerData} = require('node:worker_threads');

tf.env().set('IS_TEST', true); // no tfjs-node advice banner
tf.setBackend('cpu');
const group = isMainThread ? norms.collective.initFromEnv()
  : norms.collective.init(norms.collective.joinThreadGroup(workerData.handle, workerData.rank));
const emit = isMainThread ? (record) => console.log(JSON.stringify(record)) : (record) => parentPort.postMessage(record);
const {rank, worldSize} = group;
const cases = JSON.parse(readFileSync(join(__dirname, '../../fixtures/batch_norm.json'), 'utf8')).cases
  .filter((c) => c.opts.training && c.inputs.x.shape[0] >= 2);
const shard = (t, start, size) => {
  const per = t.data.length / t.shape[0];
  return tf.tensor(t.data.slice(start * per, (start + size) * per), [size, ...t.shape.slice(1)], 'float32');
};
for (const c of cases) {
  const sizes = splits(c.inputs.x.shape[0], worldSize);
  const start = sizes.slice(0, rank).reduce((a, b) => a + b, 0);
  const x = shard(c.inputs.x, start, sizes[rank]);
  const dy = shard(c.inputs.dy, start, sizes[rank]);
  const opts = {};
  for (const k of ['epsilon', 'dataFormat', 'activation', 'alpha']) if (c.opts[k] != null) opts[k] = c.opts[k];
  const gamma = c.inputs.gamma ? tf.tensor(c.inputs.gamma.data) : undefined;
  const beta = c.inputs.beta ? tf.tensor(c.inputs.beta.data) : undefined;
  const params = [x, gamma, beta].filter(Boolean);
  const out = norms.syncBatchNorm(x, {...opts, gamma, beta});
  const grads = tf.grads((...ts) => {
    const [xx, ...rest] = ts;
    return norms.syncBatchNorm(xx, {...opts, gamma: gamma ? rest.shift() : undefined, beta: beta ? rest.shift() : undefined}).y;
  })(params, dy);
  emit({
    case: c.name, start, size: sizes[rank], y: Array.from(out.y.dataSync()), dx: Array.from(grads[0].dataSync()),
    mean: Array.from(out.mean.dataSync()), variance: Array.from(out.variance.dataSync()), count: out.count,
    dgamma: gamma ? Array.from(grads[1].dataSync()) : null, dbeta: beta ? Array.from(grads[gamma ? 2 : 1].dataSync()) : null,
  });
  tf.dispose([x, dy, gamma, beta, out.y, out.mean, out.variance, ...grads].filter(Boolean));
}
// Which engine's variables gave the rank (the engine tests check it).
const source = isMainThread ? norms.collective.rendezvousFromEnv().source : 'threads';
emit({done: true, tensors: tf.memory().numTensors, source});
group.destroy();
