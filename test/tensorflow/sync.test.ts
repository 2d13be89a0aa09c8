/**
 * Synchronized ops on the tensorflow backend across 2, 3 and 4 worker-thread ranks, each rank
 * running @tensorflow/tfjs-node with tfjs-norms/node (tfjs-node's N-API addon keeps its
 * TensorFlow context per thread, so it loads in every worker): syncBatchNorm at 2, 3 and 4 ranks,
 * inplaceABN and sparseBatchNorm with `group` at 2 and 3, with uneven batches and an empty rank
 * from 3 ranks up, against the PyTorch fixtures of batch norm over the concatenated batch:
 * forward values, statistics and gradients, no leaked tensors or TensorFlow handles, and every
 * rank on the 'tensorflow' backend. Runs the built package (npm test builds first).
 */
import {checkReplies, rankMessages, syncCases, type SyncOp} from '../support/sync_checks.js';
import {ThreadRanks} from '../collective/thread_ranks.js';

describe.each([
  [2, ['syncBatchNorm', 'inplaceABN', 'sparseBatchNorm']],
  [3, ['syncBatchNorm', 'inplaceABN', 'sparseBatchNorm']],
  [4, ['syncBatchNorm']],
] as Array<[number, SyncOp[]]>)('%i thread ranks on tensorflow', (world, ops) => {
  let ranks: ThreadRanks;
  beforeAll(() => { ranks = new ThreadRanks(world, {timeoutMs: 30000, backend: 'tensorflow'}); });
  afterAll(async () => { await ranks.terminate(); });

  test('every rank runs tfjs-node and the group all-reduces', async () => {
    const replies = await ranks.run(Array.from({length: world}, (_, r) => ({op: 'allReduce', data: [r, 1]})));
    expect(replies.map((r) => [r.ok, r.backend])).toEqual(Array(world).fill([true, 'tensorflow']));
    for (const r of replies) expect(r.sum).toEqual([world * (world - 1) / 2, world]);
  });

  describe.each(ops)('%s', (op) => {
    test.each(syncCases(op).map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const plan = rankMessages(op, c, world);
      expect(checkReplies(c, plan, await ranks.run(plan.msgs), 'tensorflow')).toEqual([]);
    });
  });
});
