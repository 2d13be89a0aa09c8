// Rank script for the fault tests. argv[2] is the fault: 'die' (rank 1 exits mid-run),
// 'stall' (rank 1 sleeps past the timeout), 'channels' (rank 1 has 4 channels, the others 3).
// Prints one JSON line: what each rank saw, and how long until it saw it.
const tf = require('@tensorflow/tfjs-core');
require('@tensorflow/tfjs-backend-cpu');
const norms = require('../../../dist/cjs/src/index.js');

tf.env().set('IS_TEST', true);
tf.setBackend('cpu');
const fault = process.argv[2];
const group = norms.collective.initFromEnv();
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
let t0 = Date.now();
try {
  for (let step = 0; step < 5; step++) {
    if (step === 2 && group.rank === 1) {
      if (fault === 'die') process.exit(3);
      if (fault === 'stall') sleep(8000);
    }
    const C = fault === 'channels' && group.rank === 1 ? 4 : 3;
    t0 = Date.now();
    tf.tidy(() => norms.syncBatchNorm(tf.randomNormal([4, C]), {}).y.dataSync());
  }
  console.log(JSON.stringify({rank: group.rank, ok: true}));
} catch (e) {
  console.log(JSON.stringify({rank: group.rank, ok: false, error: `${e.name}: ${e.message}`, ms: Date.now() - t0}));
  process.exit(2);
}
