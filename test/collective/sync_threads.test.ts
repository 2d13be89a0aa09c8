/**
 * SyncBatchNorm across 2, 3 and 4 worker-thread ranks with uneven batches (and an empty rank)
 * equals batchNorm over the concatenated batch: the PyTorch training fixtures, split along the
 * batch axis. Runs the built package (npm test builds first).
 */
import {compare, sliceBatch, type FixtureCase} from '../support/fixtures.js';
import {loadFixtures} from '../support/load.js';
import {ThreadRanks} from './thread_ranks.js';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const {splits} = require('./splits.cjs') as {splits: (N: number, world: number) => number[]};


const cases = loadFixtures('batch_norm').cases.filter((c) => c.opts.training && c.inputs.x!.shape[0] >= 2);

describe.each([2, 3, 4])('%i thread ranks', (world) => {
  let ranks: ThreadRanks;
  beforeAll(() => { ranks = new ThreadRanks(world, {timeoutMs: 20000}); });
  afterAll(async () => { await ranks.terminate(); });

  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c: FixtureCase) => {
    const N = c.inputs.x!.shape[0];
    const sizes = splits(N, world);
    const starts = sizes.map((_, r) => sizes.slice(0, r).reduce((a, b) => a + b, 0));
    const opts: Record<string, unknown> = {};
    for (const k of ['epsilon', 'dataFormat', 'activation', 'alpha']) if (c.opts[k] != null) opts[k] = c.opts[k];
    const replies = await ranks.run(sizes.map((size, r) => ({
      op: 'syncBatchNorm', opts, gamma: c.inputs.gamma, beta: c.inputs.beta,
      x: sliceBatch(c.inputs.x!, starts[r], size), dy: sliceBatch(c.inputs.dy!, starts[r], size),
    })));
    const bad: string[] = [];
    const dgamma = new Float64Array(c.expected.mean!.data.length);
    const dbeta = new Float64Array(dgamma.length);
    replies.forEach((rep, r) => {
      if (!rep.ok) { bad.push(`rank ${r}: ${rep.error}`); return; }
      const tag = (s: string) => `rank ${r} ${s}`;
      bad.push(...compare(tag('y'), rep.y as number[], sliceBatch(c.expected.y!, starts[r], sizes[r])));
      bad.push(...compare(tag('dx'), rep.dx as number[], sliceBatch(c.expected.dx!, starts[r], sizes[r])));
      bad.push(...compare(tag('mean'), rep.mean as number[], c.expected.mean!));
      bad.push(...compare(tag('variance'), rep.variance as number[], c.expected.variance!));
      if (rep.count !== c.inputs.x!.data.length / dgamma.length) bad.push(tag(`count ${rep.count}`));
      if (rep.leaked !== 0) bad.push(tag(`leaked ${rep.leaked} tensors`));
      (rep.dgamma as number[] | null)?.forEach((v, i) => { dgamma[i] += v; });
      (rep.dbeta as number[] | null)?.forEach((v, i) => { dbeta[i] += v; });
    });
    // Each rank's dgamma/dbeta is its share: their sum is the concatenated batch's gradient.
    if (c.expected.dgamma) bad.push(...compare('Σ dgamma', dgamma, c.expected.dgamma));
    if (c.expected.dbeta) bad.push(...compare('Σ dbeta', dbeta, c.expected.dbeta));
    expect(bad).toEqual([]);
  });
});
