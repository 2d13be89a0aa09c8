// A TCP rank in a worker thread (cheaper than a process), driven by workerData: it joins the
// group with the TcpTransport of the built package (dist/cjs) using `opts`, then runs `steps`
// in order and posts one reply per step ({op, ok, ms, sum | error}). Step ops: 'allReduce'
// (data, or n values), 'allReduce32' (data, as float32), 'allReduce32n' (n generated float32
// values: replies with the SHA-256 of the result's bytes and its largest error against the
// float64 sum), 'destroy', 'sleep' (ms), 'exit' (ends the thread at once, as a process
// that dies: its sockets close).
const {parentPort, workerData} = require('node:worker_threads');
const {TcpTransport} = require('../../../dist/cjs/src/collective/tcp_transport.js');

const {createHash} = require('node:crypto');

const {opts, steps} = workerData;
/** The generated value i of rank r (any rank can compute every rank's). */
const gen = (r, i) => Math.fround(Math.sin(i * 0.37 + r * 1.3) * (1 + (i % 7)) + r / 3);
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
    case 'allReduce32n': {
      const data = Float32Array.from({length: step.n}, (_, i) => gen(opts.rank, i));
      const sum = transport.allReduceSumFloat32(data);
      let maxError = 0;
      for (let i = 0; i < step.n; i++) {
        let exact = 0;
        for (let r = 0; r < opts.worldSize; r++) exact += gen(r, i);
        maxError = Math.max(maxError, Math.abs(sum[i] - exact) / Math.max(1, Math.abs(exact)));
      }
      const hash = createHash('sha256').update(Buffer.from(sum.buffer, sum.byteOffset, sum.byteLength)).digest('hex');
      return {hash, maxError, length: sum.length, float32: sum instanceof Float32Array};
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
