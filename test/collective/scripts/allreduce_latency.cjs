// Rank script: joins the TCP group from the environment and all-reduces arrays; prints JSON.
const norms = require('../../../dist/cjs/src/index.js');
const group = norms.collective.initFromEnv();
const n = Number(process.argv[2] || 513);
const iters = Number(process.argv[3] || 200);
const data = Float64Array.from({length: n}, (_, i) => i + group.rank);
let sum;
const times = [];
for (let i = 0; i < iters; i++) {
  const t0 = process.hrtime.bigint();
  sum = group.allReduceSum(data);
  times.push(Number(process.hrtime.bigint() - t0) / 1000);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({rank: group.rank, first: sum[0], last: sum[n - 1], medianUs: times[times.length >> 1]}));
group.destroy();
