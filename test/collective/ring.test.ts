/**
 * The ring all-reduce across 2, 3 and 4 processes on loopback: odd lengths, lengths smaller
 * than the world, the empty array, below and above the threshold; every rank ends with the same
 * bytes, within float32 rounding of the float64 sum. The threshold picks the algorithm: a probe
 * whose float32 sum depends on the order of the additions tells which one ran.
 */
import {createHash} from 'node:crypto';
import {ringPlan} from '../../src/collective/ring_plan.js';
import {ringGroup, type Line} from './ring_processes.js';
import {testPort} from './tcp_ranks.js';

/** Float32 sums of n values carry a relative error of about W·2⁻²⁴ (values here are O(1)). */
const TOLERANCE = 1e-6;

function hash(a: Float32Array): string {
  return createHash('sha256').update(Buffer.from(a.buffer)).digest('hex');
}

/** The probe's sum (1e8, 1, −1e8 on ranks 0, 1, 2) as the star adds it: in rank order. */
function starProbe(n: number, world: number): Float32Array {
  const v = [1e8, 1, -1e8, ...new Array(Math.max(0, world - 3)).fill(0)].slice(0, world);
  return new Float32Array(n).fill(v.reduce((acc, x) => Math.fround(acc + x), 0));
}

/** The probe's sum as the ring adds it: segment k from rank k around to its owner k−1. */
function ringProbe(n: number, world: number, chunkElems: number): Float32Array {
  const v = [1e8, 1, -1e8, ...new Array(Math.max(0, world - 3)).fill(0)].slice(0, world);
  const plan = ringPlan(n, world, chunkElems);
  const out = new Float32Array(n);
  for (let k = 0; k < world; k++) {
    const sum = Array.from({length: world}, (_, j) => v[(k + j) % world]).reduce((acc, x) => Math.fround(acc + x), 0);
    out.fill(sum, plan.range(k, 0)[0], plan.range(k, plan.chunks - 1)[1]);
  }
  return out;
}

function results(lines: Line[][], count: number): Line[][] {
  const bad = lines.flat().filter((l) => l.ok === false);
  expect(bad).toEqual([]);
  for (const l of lines) expect(l[l.length - 1]).toMatchObject({done: true});
  return lines.map((l) => l.filter((x) => x.hash !== undefined)).map((l) => {
    expect(l).toHaveLength(count);
    return l;
  });
}

describe.each([2, 3, 4])('%i processes', (world) => {
  test('default threshold (256 KiB): sizes around it, odd, tiny and empty; the same bytes everywhere', async () => {
    const sizes = [0, 1, 7, 65535, 65536, 1000003];
    const ops = [...sizes.map((n) => ({n})), ...(world >= 3 ? [{n: 65535, data: 'probe'}, {n: 65536, data: 'probe'}] : [])];
    const chunkBytes = 64 * 1024; // several chunks per segment
    const lines = results(await ringGroup(world, await testPort(), ops, {ringChunkBytes: chunkBytes}), ops.length);
    ops.forEach((op, i) => {
      for (const l of lines) {
        expect(l[i]).toMatchObject({n: op.n, length: op.n, float32: true, hash: lines[0][i].hash});
        expect(l[i].maxError as number).toBeLessThan(TOLERANCE);
      }
    });
    if (world >= 3) {
      // 65535 floats (262140 bytes) take the star, 65536 (262144 bytes) the ring.
      expect(lines[0][sizes.length].hash).toBe(hash(starProbe(65535, world)));
      expect(lines[0][sizes.length + 1].hash).toBe(hash(ringProbe(65536, world, chunkBytes / 4)));
      expect(hash(ringProbe(65536, world, chunkBytes / 4))).not.toBe(hash(starProbe(65536, world)));
    }
  }, 90000);

  test('threshold 0 (every all-reduce on the ring): empty, fewer values than ranks, one-value chunks', async () => {
    const ops = [{n: 0}, {n: 1}, {n: world - 1}, {n: 5}, {n: 12345}, ...(world >= 3 ? [{n: 10, data: 'probe'}] : [])];
    const lines = results(await ringGroup(world, await testPort(), ops, {ringChunkBytes: 8},
                                          {TFJS_NORMS_RING_THRESHOLD_BYTES: '0'}), ops.length);
    ops.forEach((op, i) => {
      for (const l of lines) {
        expect(l[i]).toMatchObject({n: op.n, length: op.n, hash: lines[0][i].hash});
        expect(l[i].maxError as number).toBeLessThan(TOLERANCE);
      }
    });
    if (world >= 3) expect(lines[0][ops.length - 1].hash).toBe(hash(ringProbe(10, world, 2)));
  }, 90000);
});

test('TFJS_NORMS_RING_THRESHOLD_BYTES=off keeps every all-reduce on the star (rank 0\'s setting applies to all)', async () => {
  const ops = [{n: 300000, data: 'probe'}, {n: 300001}];
  const port = await testPort();
  const {ringRank} = await import('./ring_processes.js');
  const ranks = [0, 1, 2].map((r) => ringRank(r, 3, port, ops, {}, r === 0 ? {TFJS_NORMS_RING_THRESHOLD_BYTES: 'off'} : {}));
  await Promise.all(ranks.map((r) => r.exited));
  const lines = results(ranks.map((r) => r.lines), 2);
  for (const l of lines) expect(l[0].hash).toBe(hash(starProbe(300000, 3)));
  for (const l of lines) expect(l[1]).toMatchObject({hash: lines[0][1].hash});
}, 60000);

test('encrypted ring frames (TFJS_NORMS_RING_ENCRYPT=1 on rank 0) give the same bits; a started all-reduce blocks others until wait()', async () => {
  const ops = [{n: 200001}, {n: 300007, split: true}];
  const plain = results(await ringGroup(3, await testPort(), ops), 2);
  const {ringRank} = await import('./ring_processes.js');
  const port = await testPort();
  const ranks = [0, 1, 2].map((r) => ringRank(r, 3, port, ops, {}, r === 0 ? {TFJS_NORMS_RING_ENCRYPT: '1'} : {}));
  await Promise.all(ranks.map((r) => r.exited));
  const sealed = results(ranks.map((r) => r.lines), 2);
  for (const l of [...plain, ...sealed]) {
    expect(l[0].hash).toBe(plain[0][0].hash);
    expect(l[1].hash).toBe(plain[0][1].hash);
    expect(l[1].maxError as number).toBeLessThan(TOLERANCE);
    expect(l[1].refused).toMatch(/all-reduce #\d+ was started and not waited for: call its wait\(\) before the next collective/);
  }
}, 60000);

test('ranks that exit right after their last ring all-reduce do not cut off the ones still finishing it (5 runs)', async () => {
  // Whichever rank is done first exits (no destroy()): its neighbours may still be sending or
  // receiving the last chunks of the same all-reduce among themselves.
  for (let run = 0; run < 5; run++) {
    const lines = await ringGroup(4, await testPort(), [{n: 1_000_003, data: 'probe'}, {exit: true}], {ringChunkBytes: 65536},
                                  {TFJS_NORMS_RING_THRESHOLD_BYTES: '0'});
    const got = lines.map((l) => l.find((x) => x.hash !== undefined || x.ok === false));
    for (const g of got) expect(g).toMatchObject({hash: hash(ringProbe(1_000_003, 4, 16384))});
  }
}, 120000);
