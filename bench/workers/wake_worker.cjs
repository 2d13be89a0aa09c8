// Echo thread for the thread wake-up yardstick: waits on ctl[0], answers on ctl[1], until ctl[2] is set.
const {workerData} = require('node:worker_threads');

const ctl = new Int32Array(workerData);
for (;;) {
  Atomics.wait(ctl, 0, 0);
  Atomics.store(ctl, 0, 0);
  if (Atomics.load(ctl, 2) === 1) break;
  Atomics.store(ctl, 1, 1);
  Atomics.notify(ctl, 1);
}
