/**
 * Float32 all-reduce: native on the TCP transport (half the bytes, summed in float32 in rank
 * order, identical on every rank), through float64 on transports without it, and the
 * bucketed float32 gradient all-reduce of distributedOptimizer.
 */
import * as tf from '@tensorflow/tfjs';
import {Worker} from 'node:worker_threads';
import {join} from 'node:path';
import {collective} from '../../src/index.js';
import {tcpGroup, testPort} from './tcp_ranks.js';

const token = 'float32-token';

test('TCP: a float32 all-reduce sums in float32, in rank order, the same on every rank', async () => {
  const data = [[0.1, 1e8, 1, -3.5], [0.2, 1, 1e-8, 2], [0.3, -1e8, 3, 0.25]];
  const replies = await tcpGroup(await testPort(), token, data.map((d) => [{op: 'allReduce32', data: d}]));
  const expected = data[0].map((_, i) => data.reduce((acc, d) => Math.fround(acc + Math.fround(d[i])), 0));
  for (const r of replies) expect(r[1]).toMatchObject({ok: true, float32: true, sum: expected});
  // Rank order matters in float32: (1e8 + 1) - 1e8 is 0, not 1.
  expect(expected[1]).toBe(0);
}, 40000);

test('TCP: float32 on one rank and float64 on another is a mismatch on every rank', async () => {
  const replies = await tcpGroup(await testPort(), token, [[{op: 'allReduce32', data: [1, 2]}], [{op: 'allReduce', data: [1, 2]}]]);
  for (const r of replies) {
    expect(r[1].ok).toBe(false);
    expect(r[1].error).toMatch(/collective mismatch in all-reduce #0: rank \d sent 2 float(32|64) values, rank \d sent 2 float(32|64) values/);
  }
}, 40000);

test('TCP: the size limit counts bytes, so float32 carries twice the values', async () => {
  const data = Array.from({length: 200}, (_, i) => i);
  const ok = await tcpGroup(await testPort(), token, [[{op: 'allReduce32', data}], [{op: 'allReduce32', data}]], {maxMessageBytes: 1024});
  for (const r of ok) expect(r[1]).toMatchObject({ok: true, sum: data.map((v) => 2 * v)});
  const over = await tcpGroup(await testPort(), token, [[{op: 'allReduce', data}], [{op: 'allReduce', data}]], {maxMessageBytes: 1024});
  // A rank may learn of the other's failure while it is still joining: then joining throws it.
  for (const r of over) expect(r[r.length - 1].error).toMatch(/exceeds the message limit of 1024 bytes/);
}, 40000);

test('a transport without float32 is used through float64', () => {
  const calls: number[] = [];
  const transport: collective.CollectiveTransport = {
    rank: 0, worldSize: 1, close: () => undefined,
    allReduceSum: (d) => { calls.push(d.length); return Float64Array.from(d, (v) => 2 * v); },
  };
  const group = new collective.CollectiveGroup(transport);
  const out = group.allReduceSum(Float32Array.of(1.5, 2));
  expect(out).toBeInstanceOf(Float32Array);
  expect(Array.from(out)).toEqual([3, 4]);
  expect(calls).toEqual([2]);
  const single = new collective.CollectiveGroup(new collective.SingleProcessTransport());
  expect(single.allReduceSum(Float32Array.of(0.5))).toEqual(Float32Array.of(0.5));
});

test('distributedOptimizer: gradients in small buckets train exactly as in one, and bad bucket sizes are refused', async () => {
  const X = Array.from({length: 8}, (_, i) => [Math.sin(i), Math.cos(i), i / 8]);
  const Y = X.map(([a, b, c]) => [a + 2 * b, c - a]);
  const train = (bucketBytes?: number) => {
    const handle = collective.createThreadGroup(2, {timeoutMs: 20000});
    return Promise.all([0, 1].map((rank) => new Promise<{final: number[][]}>((resolve, reject) => {
      const w = new Worker(join(__dirname, 'workers', 'dp_worker.cjs'), {workerData: {
        handle, rank, x: X.slice(rank * 4, rank * 4 + 4), y: Y.slice(rank * 4, rank * 4 + 4), steps: 3, bucketBytes}});
      w.once('message', (m) => { resolve(m); void w.terminate(); });
      w.once('error', reject);
    })));
  };
  const [whole, buckets] = [await train(), await train(8)];
  expect(buckets[0].final).toEqual(whole[0].final);
  expect(buckets[1].final).toEqual(buckets[0].final);
  await tf.setBackend('cpu');
  expect(() => collective.distributedOptimizer(tf.train.sgd(0.1), {bucketBytes: 2})).toThrow(/bucketBytes must be an integer >= 4, got 2/);
}, 60000);
