/**
 * The synchronized variants of issue 7 across 2 and 3 worker-thread ranks on cpu, with uneven
 * batches (and an empty rank at 3): inplaceABN with `group` (InPlace-ABN Sync) and
 * sparseBatchNorm with `group` (Paddle's sparse SyncBatchNorm) equal batch norm over the
 * concatenated batch (PyTorch fixtures). Runs the built package (npm test builds first).
 */
import {checkReplies, rankMessages, syncCases, type SyncOp} from '../support/sync_checks.js';
import {ThreadRanks} from './thread_ranks.js';

const ops: SyncOp[] = ['inplaceABN', 'sparseBatchNorm'];

describe.each([2, 3])('%i thread ranks', (world) => {
  let ranks: ThreadRanks;
  beforeAll(() => { ranks = new ThreadRanks(world, {timeoutMs: 20000}); });
  afterAll(async () => { await ranks.terminate(); });

  describe.each(ops)('%s with group', (op) => {
    test.each(syncCases(op).map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const plan = rankMessages(op, c, world);
      expect(checkReplies(c, plan, await ranks.run(plan.msgs), 'cpu')).toEqual([]);
    });
  });
});
