// A TCP rank in a worker thread (cheaper than a process), driven by workerData: it joins the
// group with the TcpTransport of the built package (dist/cjs) using `opts`, then runs `steps`
// in order and posts one reply per step ({op, ok, ms, sum | error}). Step ops: 'allReduce'
// (data, or n values), 'allReduce32' (data, as float32), 'destroy', 'sleep' (ms), 'exit' (ends the thread at once, as a process
// that dies: its sockets close).
const {parentPort, workerData} = require('node:worker_threads');
const {TcpTransport} = require('../../../dist/cjs/src/collective/tcp_transport.js');

const {opts, steps} = workerData;
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
let transport = null;

function run(step) {
  switch (step.op) {
    case 'init': transport = new TcpTransport(opts); return {};
    case 'allReduce': {
      const data = step.data ? Float64Array.from(step.data) : new Float64Array(step.n).fill(opts.rank + 1);
      const sum = transport.allReduceSum(data);
      return {sum: step.data ? Array.from(sum) : [sum[0], sum.length]};
    }
    case 'allReduce32': {
      const sum = transport.allReduceSumFloat32(Float32Array.from(step.data));
      return {sum: Array.from(sum), float32: sum instanceof Float32Array};
    }
    case 'destroy': transport.close(); return {};
    case 'sleep': sleep(step.ms); return {};
    case 'exit': return process.exit(0);
    default: throw new Error(`unknown op ${step.op}`);
  }
}

for (const step of [{op: 'init'}, ...steps]) {
  const t0 = Date.now();
  try {
    const result = run(step);
    parentPort.postMessage({op: step.op, ok: true, ms: Date.now() - t0, ...result});
  } catch (e) {
    parentPort.postMessage({op: step.op, ok: false, ms: Date.now() - t0, error: `${e.name}: ${e.message}`});
    break;
  }
}
