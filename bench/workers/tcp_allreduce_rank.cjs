// Bench rank (process, started with RANK/WORLD_SIZE/MASTER_* set): median all-reduce latency
// (µs) over the TCP transport for each array length in argv[2] (comma-separated).
const norms = require('../../dist/cjs/src/index.js');

const sizes = process.argv[2].split(',').map(Number);
const iters = Number(process.argv[3] || 500);
const group = norms.collective.initFromEnv();
const result = {};
for (const n of sizes) {
  const data = new Float64Array(n).fill(group.rank + 1);
  for (let i = 0; i < 50; i++) group.allReduceSum(data);
  const times = [];
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    group.allReduceSum(data);
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  result[n] = times[times.length >> 1];
}
if (group.rank === 0) console.log(JSON.stringify(result));
group.destroy();
