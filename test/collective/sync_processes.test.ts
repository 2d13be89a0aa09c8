/**
 * SyncBatchNorm across 2, 3 and 4 processes started by the launcher (`tfjs-norms run`) on
 * loopback, over the TCP transport: equals batchNorm over the concatenated batch (PyTorch
 * fixtures split along the batch axis, uneven, with an empty rank).
 */
import {compare, sliceBatch, type FixtureTensor} from '../support/fixtures.js';
import {loadFixtures} from '../support/load.js';
import {launcher, rankLines} from './launcher_helpers.js';

const cases = new Map(loadFixtures('batch_norm').cases.map((c) => [c.name, c]));

describe.each([2, 3, 4])('%i processes through the launcher', (world) => {
  test('every training fixture', async () => {
    const run = await launcher(['run', '--nproc', String(world), 'test/collective/scripts/sync_bn_rank.cjs']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = rankLines(run.stdout);
    expect([...lines.keys()].sort()).toEqual(Array.from({length: world}, (_, r) => r));
    const bad: string[] = [];
    const sums = new Map<string, {dgamma: Float64Array; dbeta: Float64Array}>();
    for (const [rank, results] of lines) {
      const done = results.pop()!;
      expect(done.done).toBe(true);
      for (const res of results) {
        const c = cases.get(res.case as string)!;
        const tag = (s: string) => `rank ${rank} ${c.name} ${s}`;
        const start = res.start as number, size = res.size as number;
        bad.push(...compare(tag('y'), res.y as number[], sliceBatch(c.expected.y!, start, size)));
        bad.push(...compare(tag('dx'), res.dx as number[], sliceBatch(c.expected.dx!, start, size)));
        bad.push(...compare(tag('mean'), res.mean as number[], c.expected.mean!));
        bad.push(...compare(tag('variance'), res.variance as number[], c.expected.variance!));
        const C = c.expected.mean!.data.length;
        if (!sums.has(c.name)) sums.set(c.name, {dgamma: new Float64Array(C), dbeta: new Float64Array(C)});
        const s = sums.get(c.name)!;
        (res.dgamma as number[] | null)?.forEach((v, i) => { s.dgamma[i] += v; });
        (res.dbeta as number[] | null)?.forEach((v, i) => { s.dbeta[i] += v; });
      }
    }
    for (const [name, s] of sums) {
      const c = cases.get(name)!;
      if (c.expected.dgamma) bad.push(...compare(`${name} Σ dgamma`, s.dgamma, c.expected.dgamma as FixtureTensor));
      if (c.expected.dbeta) bad.push(...compare(`${name} Σ dbeta`, s.dbeta, c.expected.dbeta as FixtureTensor));
    }
    expect(sums.size).toBeGreaterThan(20);
    expect(bad).toEqual([]);
  });
});
