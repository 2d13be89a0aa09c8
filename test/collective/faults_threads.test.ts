/**
 * Faults in a thread group: a stalled, dead or departed peer, and mismatched collectives each
 * raise a clear error on every live rank within the timeout. Every test is bounded in time.
 */
import {collective} from '../../src/index.js';
import {ThreadRanks} from './thread_ranks.js';

const tensor = (shape: number[]) => ({shape, data: Array.from({length: shape.reduce((a, b) => a * b)}, (_, i) => Math.sin(i))});

test('a stalled rank: the others time out, and the stalled one learns the group failed', async () => {
  const ranks = new ThreadRanks(2, {timeoutMs: 500});
  const replies = ranks.run([{op: 'allReduce', data: [1, 2]}, {op: 'sleep', ms: 1500}]);
  const [r0] = await replies;
  expect(r0.ok).toBe(false);
  expect(r0.error).toMatch(/CollectiveError: .*rank 0: timed out after 500 ms in all-reduce #0/);
  expect(r0.ms).toBeGreaterThanOrEqual(450);
  expect(r0.ms).toBeLessThan(1400);
  const [, r1] = await ranks.run([{op: 'sleep', ms: 0}, {op: 'allReduce', data: [1, 2]}]);
  expect(r1.ok).toBe(false);
  expect(r1.error).toMatch(/the collective group failed: rank 0: timed out/);
  await ranks.terminate();
}, 20000);

test('a dead rank (terminated thread): the live ranks raise within the timeout', async () => {
  const ranks = new ThreadRanks(3, {timeoutMs: 800});
  await ranks.run({op: 'allReduce', data: [1]});
  await ranks.workers[2].terminate();
  const live = await Promise.all([0, 1].map((r) => new Promise<{ok: boolean; error?: string; ms: number}>((resolve) => {
    ranks.workers[r].once('message', resolve);
    ranks.workers[r].postMessage({op: 'allReduce', data: [1, 2, 3]});
  })));
  for (const rep of live) {
    expect(rep.ok).toBe(false);
    expect(rep.error).toMatch(/timed out after 800 ms|the collective group failed/);
    expect(rep.ms).toBeLessThan(2000);
  }
  await ranks.terminate();
}, 20000);

test('a rank that closed the group: the others raise at once', async () => {
  const ranks = new ThreadRanks(2, {timeoutMs: 10000});
  const [r0] = await ranks.run([{op: 'allReduce', data: [1]}, {op: 'destroy'}]);
  expect(r0.ok).toBe(false);
  expect(r0.error).toMatch(/a peer closed the group/);
  expect(r0.ms).toBeLessThan(2000);
  await ranks.terminate();
}, 20000);

test('different lengths: every rank raises a mismatch error', async () => {
  const ranks = new ThreadRanks(2, {timeoutMs: 10000});
  const replies = await ranks.run([{op: 'allReduce', data: [1, 2, 3]}, {op: 'allReduce', data: [1, 2, 3, 4, 5]}]);
  for (const rep of replies) {
    expect(rep.ok).toBe(false);
    expect(rep.error).toMatch(/collective mismatch: rank \d called all-reduce #0 with \d values, rank \d called #0 with \d/);
  }
  await ranks.terminate();
}, 20000);

test('syncBatchNorm with a different channel count on one rank: every rank raises', async () => {
  const ranks = new ThreadRanks(3, {timeoutMs: 10000});
  const msg = (C: number) => ({op: 'syncBatchNorm', opts: {}, x: tensor([4, C]), dy: tensor([4, C])});
  const replies = await ranks.run([msg(3), msg(4), msg(3)]);
  for (const rep of replies) {
    expect(rep.ok).toBe(false);
    expect(rep.error).toMatch(/collective mismatch/);
  }
  await ranks.terminate();
}, 20000);

test('arrays longer than a round are chunked, and results are identical on every rank', async () => {
  const ranks = new ThreadRanks(3, {timeoutMs: 10000, maxElements: 7});
  const data = (r: number) => Array.from({length: 30}, (_, i) => i * 0.1 + r);
  const replies = await ranks.run([0, 1, 2].map((r) => ({op: 'allReduce', data: data(r)})));
  const expected = Array.from({length: 30}, (_, i) => 3 * i * 0.1 + 3);
  for (const rep of replies) {
    expect(rep.ok).toBe(true);
    (rep.sum as number[]).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 12));
    expect(rep.sum).toEqual(replies[0].sum);
  }
  await ranks.terminate();
}, 20000);

test('joining the same rank twice, and bad handles, are errors', () => {
  const handle = collective.createThreadGroup(2);
  const t = collective.joinThreadGroup(handle, 0);
  expect(() => collective.joinThreadGroup(handle, 0)).toThrow(/rank 0 has already joined this group/);
  expect(() => collective.joinThreadGroup(handle, 2)).toThrow(/rank must be in \[0, 2\)/);
  expect(() => collective.joinThreadGroup({} as never, 0)).toThrow(/not a handle from createThreadGroup/);
  expect(() => collective.createThreadGroup(0)).toThrow(/worldSize must be a positive integer/);
  t.close();
  expect(() => t.allReduceSum(new Float64Array(1))).toThrow(/closed transport/);
});

test('default group: init, getDefaultGroup, destroy; a world of one needs no transport', () => {
  expect(collective.getDefaultGroup()).toBeNull();
  const g = collective.init(new collective.SingleProcessTransport());
  expect(collective.getDefaultGroup()).toBe(g);
  expect(Array.from(g.allReduceSum(Float64Array.of(1, 2)))).toEqual([1, 2]);
  collective.destroy();
  expect(collective.getDefaultGroup()).toBeNull();
  expect(g.isDestroyed).toBe(true);
  expect(() => g.allReduceSum(new Float64Array(1))).toThrow(/destroyed group/);
});
