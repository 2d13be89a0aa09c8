// A rank in a thread group, driven by messages from the test: it joins the group from the
// handle in workerData, runs what each message asks on the cpu backend of the built package
// (dist/cjs), and posts the result back.
const {parentPort, workerData} = require('node:worker_threads');
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const norms = require('../../../dist/cjs/src/index.js');

tf.env().set('IS_TEST', true); // no tfjs-node advice banner
tf.setBackend('cpu');
const {handle, rank} = workerData;
const group = new norms.collective.CollectiveGroup(norms.collective.joinThreadGroup(handle, rank));

const arr = (t) => Array.from(t.dataSync());

function syncBatchNorm(msg) {
  const x = tf.tensor(msg.x.data, msg.x.shape, 'float32');
  const dy = tf.tensor(msg.dy.data, msg.dy.shape, 'float32');
  const gamma = msg.gamma ? tf.tensor(msg.gamma.data, msg.gamma.shape) : undefined;
  const beta = msg.beta ? tf.tensor(msg.beta.data, msg.beta.shape) : undefined;
  const before = tf.memory().numTensors;
  const opts = {...msg.opts, group};
  const out = norms.syncBatchNorm(x, {...opts, gamma, beta});
  const params = [x, gamma, beta].filter((t) => t !== undefined);
  const grads = tf.grads((...ts) => {
    const [xx, ...rest] = ts;
    const g = gamma ? rest.shift() : undefined;
    const b = beta ? rest.shift() : undefined;
    return norms.syncBatchNorm(xx, {...opts, gamma: g, beta: b}).y;
  })(params, dy);
  const result = {
    y: arr(out.y), mean: arr(out.mean), variance: arr(out.variance), count: out.count,
    dx: arr(grads[0]), dgamma: gamma ? arr(grads[1]) : null, dbeta: beta ? arr(grads[gamma ? 2 : 1]) : null,
  };
  tf.dispose([out.y, out.mean, out.variance, ...grads]);
  result.leaked = tf.memory().numTensors - before;
  tf.dispose([x, dy, gamma, beta].filter((t) => t !== undefined));
  return result;
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

parentPort.on('message', (msg) => {
  const t0 = Date.now();
  try {
    let result;
    switch (msg.op) {
      case 'syncBatchNorm': result = syncBatchNorm(msg); break;
      case 'allReduce': result = {sum: Array.from(group.allReduceSum(Float64Array.from(msg.data)))}; break;
      case 'sleep': sleep(msg.ms); result = {}; break;
      case 'destroy': group.destroy(); result = {}; break;
      default: throw new Error(`unknown op ${msg.op}`);
    }
    parentPort.postMessage({ok: true, rank, ms: Date.now() - t0, ...result});
  } catch (e) {
    parentPort.postMessage({ok: false, rank, ms: Date.now() - t0, error: `${e.name}: ${e.message}`});
  }
});
parentPort.postMessage({ready: true, rank});
