// Batch sizes per rank for the SyncBatchNorm tests: uneven, with an empty rank from three
// ranks up. Shared by the thread tests and the process (launcher) tests.
function splits(N, world) {
  if (world === 1) return [N];
  if (world === 2) return [N - 1, 1];
  if (world === 3) return [Math.ceil(N / 2), 0, N - Math.ceil(N / 2)];
  const first = Math.min(1, N);
  const third = Math.floor((N - first) / 2);
  return [first, 0, third, N - first - third];
}
module.exports = {splits};
