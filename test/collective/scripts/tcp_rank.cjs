// A light rank (no tfjs): joins the TCP group from the environment, all-reduces [RANK + 1]
// once, and prints one JSON line. Used where a process is needed (e.g. under `ulimit -n`).
const {initFromEnv} = require('../../../dist/cjs/src/collective/tcp_transport.js');

const t0 = Date.now();
try {
  const group = initFromEnv();
  const sum = group.allReduceSum(Float64Array.of(group.rank + 1));
  console.log(JSON.stringify({rank: group.rank, ok: true, sum: Array.from(sum), ms: Date.now() - t0}));
  group.destroy();
} catch (e) {
  console.log(JSON.stringify({ok: false, error: `${e.name}: ${e.message}`, ms: Date.now() - t0}));
  process.exit(2);
}
