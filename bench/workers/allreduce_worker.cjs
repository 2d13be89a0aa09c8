// Bench rank (worker thread): all-reduces arrays of each size in `sizes` `iters` times in a
// thread group and reports rank 0's median latency per size (µs).
const {parentPort, workerData} = require('node:worker_threads');
const norms = require('../../dist/cjs/src/index.js');

const {handle, rank, sizes, iters} = workerData;
const t = norms.collective.joinThreadGroup(handle, rank);
const result = {};
for (const n of sizes) {
  const data = new Float64Array(n).fill(rank + 1);
  for (let i = 0; i < 50; i++) t.allReduceSum(data);
  const times = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    t.allReduceSum(data);
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  result[n] = times[times.length >> 1];
}
t.close();
parentPort.postMessage(result);
