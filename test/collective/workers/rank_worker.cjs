// A rank in a thread group, driven by messages from the test: it joins the group from the
// handle in workerData, runs what each message asks on the backend named by workerData.backend
// ('cpu' by default, or 'tensorflow': tfjs-node, whose N-API addon keeps its state per thread,
// with tfjs-norms/node) of the built package (dist/cjs), and posts the result back. Every reply
// names the backend it ran on.
const {parentPort, workerData} = require('node:worker_threads');
const tf = require('@tensorflow/tfjs-core');

const {handle, rank, backend = 'cpu'} = workerData;
if (backend === 'tensorflow') {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  require('@tensorflow/tfjs-node');
} else {
  require('@tensorflow/tfjs-backend-cpu');
}
const norms = require('../../../dist/cjs/src/index.js');
if (backend === 'tensorflow') require('../../../dist/cjs/src/node.js');

tf.env().set('IS_TEST', true); // no tfjs-node advice banner
tf.setBackend(backend);
// A rank that cannot run on the backend asked for fails at start (the test sees the error).
if (tf.getBackend() !== backend) throw new Error(`rank ${rank}: backend is ${tf.getBackend()}, not ${backend}`);
const group = new norms.collective.CollectiveGroup(norms.collective.joinThreadGroup(handle, rank));

const arr = (t) => Array.from(t.dataSync());
// tfjs-node also holds TensorFlow handles that tf.memory() does not count.
const handles = () => (backend === 'tensorflow' ? tf.engine().findBackend('tensorflow').getNumOfTFTensors() : 0);

// The synchronized ops under test, as (x, opts) => {y, mean, variance, count, coo?}: x is this
// rank's shard (for sparseBatchNorm, its rows of the values matrix).
const SYNC_OPS = {
  syncBatchNorm: (x, opts) => norms.syncBatchNorm(x, opts),
  inplaceABN: (x, opts) => norms.inplaceABN(x, {...opts, training: true}),
  sparseBatchNorm: (values, opts, coo) => {
    const r = norms.sparseBatchNorm({indices: coo.indices, values, shape: coo.shape}, {...opts, training: true});
    return {y: r.output.values, mean: r.mean, variance: r.variance, count: null, coo: r.output};
  },
};

// Sparse COO around this rank's rows: entry i sits at (rank, offset + i) of a [world, rows, C] tensor.
function cooFor(msg, nnz) {
  const idx = [new Array(nnz).fill(rank), Array.from({length: nnz}, (_, i) => msg.coo.offset + i)];
  return {indices: tf.tensor2d(idx, [2, nnz], 'int32'), shape: [...msg.coo.shape]};
}

function syncOp(msg) {
  const run = SYNC_OPS[msg.op];
  const handles0 = handles();
  const tensors0 = tf.memory().numTensors;
  const x = tf.tensor(msg.x.data, msg.x.shape, 'float32');
  const dy = tf.tensor(msg.dy.data, msg.dy.shape, 'float32');
  const gamma = msg.gamma ? tf.tensor(msg.gamma.data, msg.gamma.shape) : undefined;
  const beta = msg.beta ? tf.tensor(msg.beta.data, msg.beta.shape) : undefined;
  const coo = msg.op === 'sparseBatchNorm' ? cooFor(msg, msg.x.shape[0]) : undefined;
  const before = tf.memory().numTensors;
  const opts = {...msg.opts, group};
  const out = run(x, {...opts, gamma, beta}, coo);
  const params = [x, gamma, beta].filter((t) => t !== undefined);
  const grads = tf.grads((...ts) => {
    const [xx, ...rest] = ts;
    const g = gamma ? rest.shift() : undefined;
    const b = beta ? rest.shift() : undefined;
    return run(xx, {...opts, gamma: g, beta: b}, coo).y;
  })(params, dy);
  const result = {
    y: arr(out.y), mean: arr(out.mean), variance: arr(out.variance), count: out.count,
    dx: arr(grads[0]), dgamma: gamma ? arr(grads[1]) : null, dbeta: beta ? arr(grads[gamma ? 2 : 1]) : null,
  };
  if (out.coo) {
    // Indices and shape pass through unchanged.
    result.cooKept = JSON.stringify(arr(out.coo.indices)) === JSON.stringify(arr(coo.indices)) &&
      out.coo.indices !== coo.indices && JSON.stringify(out.coo.shape) === JSON.stringify(coo.shape);
  }
  tf.dispose([out.y, out.mean, out.variance, out.coo?.indices, ...grads].filter((t) => t !== undefined));
  result.leaked = tf.memory().numTensors - before;
  tf.dispose([x, dy, gamma, beta, coo?.indices].filter((t) => t !== undefined));
  result.leakedAll = tf.memory().numTensors - tensors0;
  result.leakedHandles = handles() - handles0;
  return result;
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

parentPort.on('message', (msg) => {
  const t0 = Date.now();
  try {
    let result;
    switch (msg.op) {
      case 'syncBatchNorm': case 'inplaceABN': case 'sparseBatchNorm': result = syncOp(msg); break;
      case 'allReduce': result = {sum: Array.from(group.allReduceSum(Float64Array.from(msg.data)))}; break;
      case 'sleep': sleep(msg.ms); result = {}; break;
      case 'destroy': group.destroy(); result = {}; break;
      default: throw new Error(`unknown op ${msg.op}`);
    }
    parentPort.postMessage({ok: true, rank, ms: Date.now() - t0, backend: tf.getBackend(), ...result});
  } catch (e) {
    parentPort.postMessage({ok: false, rank, ms: Date.now() - t0, backend: tf.getBackend(), error: `${e.name}: ${e.message}`});
  }
});
parentPort.postMessage({ready: true, rank, backend: tf.getBackend()});
