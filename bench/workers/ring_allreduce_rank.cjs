// Bench rank (process, started with RANK/WORLD_SIZE/MASTER_* and TFJS_NORMS_RING_THRESHOLD_BYTES
// set): median time (ms) of a float32 all-reduce of each size in argv[2] (bytes, comma-separated),
// argv[3] timed runs each (comma-separated) after argv[4] warm-ups (default 1; a size's first runs
// are slower: TCP windows, V8's compile of the add loops). Each timed run starts after a
// one-value all-reduce (a barrier), so rank 0's clock covers the whole collective. The sum is
// taken in place (startAllReduceSum, as distributedOptimizer's buckets).
const norms = require('../../dist/cjs/src/index.js');

const sizes = process.argv[2].split(',').map(Number);
const iters = process.argv[3].split(',').map(Number);
const warmups = Number(process.argv[4] || 1);
const group = norms.collective.initFromEnv();
const barrier = new Float32Array(1);
const result = {};
sizes.forEach((bytes, k) => {
  const data = new Float32Array(bytes / 4).fill(group.rank + 1);
  const times = [];
  for (let i = 0; i < warmups + iters[k]; i++) {
    data.fill(group.rank + 1);
    group.allReduceSum(barrier);
    const t0 = process.hrtime.bigint();
    const out = group.startAllReduceSum(data).wait(); // in place, as distributedOptimizer's buckets
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= warmups) times.push(ms);
    const expected = (group.worldSize * (group.worldSize + 1)) / 2;
    if (out[0] !== expected || out[out.length - 1] !== expected) throw new Error(`wrong sum ${out[0]} (expected ${expected})`);
  }
  times.sort((a, b) => a - b);
  result[bytes] = times[times.length >> 1];
});
if (group.rank === 0) console.log(JSON.stringify(result));
group.destroy();
