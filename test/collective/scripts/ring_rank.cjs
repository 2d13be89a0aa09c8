// A rank (process, no tfjs) for the ring tests: joins the TCP group from the environment
// (TcpTransport options in argv[3] as JSON, e.g. {"ringChunkBytes": 4096}), then runs the
// float32 all-reduces of argv[2] (JSON list of {n, data}): 'gen' data (every rank's values are
// known to every rank, so the float64 sum is checked here) or 'probe' data (1e8, 1, -1e8 on
// ranks 0, 1, 2, zero elsewhere: the result tells the summation order). Prints one JSON line per
// all-reduce ({rank, n, hash, maxError} or {rank, ok: false, error}); 'repeat' runs forever
// (printing 'started' before each) until the test kills a rank; {sleep: ms} pauses; 'split'
// starts the all-reduce with startAllReduceSum and tries another collective before wait();
// {exit: true} ends the process at once.
const {createHash} = require('node:crypto');
const {rendezvousFromEnv} = require('../../../dist/cjs/src/collective/env.js');
const {TcpTransport} = require('../../../dist/cjs/src/collective/tcp_transport.js');
const {CollectiveGroup} = require('../../../dist/cjs/src/collective/group.js');

const ops = JSON.parse(process.argv[2]);
const extra = JSON.parse(process.argv[3] || '{}');
const gen = (r, i) => Math.fround(Math.sin(i * 0.37 + r * 1.3) * (1 + (i % 7)) + r / 3);
const probe = (r) => [1e8, 1, -1e8][r] ?? 0;
const print = (o) => console.log(JSON.stringify(o));
let rank = -1;
let t0 = Date.now();
try {
  const env = rendezvousFromEnv(process.env);
  rank = env.rank;
  const group = new CollectiveGroup(new TcpTransport({...env, ...extra}));
  for (let k = 0; ; k++) {
    const op = ops[k % ops.length];
    if (k >= ops.length && !op.repeat) break;
    if (op.exit) process.exit(0); // at once, no destroy(): as a process that ends right after its last collective
    if (op.sleep) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, op.sleep);
      print({rank, slept: op.sleep});
      continue;
    }
    const data = Float32Array.from({length: op.n}, (_, i) => (op.data === 'probe' ? probe(rank) : gen(rank, i)));
    if (op.repeat) print({rank, started: k});
    t0 = Date.now();
    let sum;
    let refused;
    if (op.split) {
      // Started, then another collective before wait(): refused; the started one completes.
      const pending = group.startAllReduceSum(data);
      try { group.allReduceSum(data); } catch (e) { refused = e.message; }
      sum = pending.wait();
    } else {
      sum = group.allReduceSum(data);
    }
    let maxError = 0;
    if (op.data !== 'probe') {
      for (let i = 0; i < op.n; i++) {
        let exact = 0;
        for (let r = 0; r < group.worldSize; r++) exact += gen(r, i);
        maxError = Math.max(maxError, Math.abs(sum[i] - exact) / Math.max(1, Math.abs(exact)));
      }
    }
    const hash = createHash('sha256').update(Buffer.from(sum.buffer, sum.byteOffset, sum.byteLength)).digest('hex');
    print({rank, n: op.n, length: sum.length, float32: sum instanceof Float32Array, hash, maxError, refused, ms: Date.now() - t0});
  }
  print({rank, done: true});
  group.destroy();
} catch (e) {
  print({rank, ok: false, error: `${e.name}: ${e.message}`, ms: Date.now() - t0});
  process.exit(2);
}
