/**
 * The ring all-reduce's arithmetic (src/collective/ring_plan.ts), run here step by step as the
 * network thread does: every value lands in exactly one chunk, each rank sends 2·(W−1)/W of the
 * array, the owner of a segment sums every rank once in the documented order, and every rank
 * ends with the owners' bits.
 */
import {ringPlan, type RingPlan} from '../../src/collective/ring_plan.js';

/** Runs the ring on `inputs` (one array per rank) exactly as tcp_ring.ts orders its work. */
function simulate(plan: RingPlan, inputs: Float32Array[]): {out: Float32Array[]; sent: number[]; order: number[][][]} {
  const W = plan.world;
  const out = inputs.map((x) => Float32Array.from(x));
  const sent = new Array(W).fill(0);
  // The ranks whose values each element of each rank's array holds, in the order they were added.
  const order = inputs.map((x, r) => Array.from(x, () => [r]));
  for (let step = 0; step < plan.steps; step++) {
    // Every rank sends what it has before anyone receives this step (a step reads the previous one).
    const messages = Array.from({length: W}, (_, r) => {
      const seg = plan.sendSegment(r, step);
      return Array.from({length: plan.chunks}, (_, c) => {
        const [a, b] = plan.range(seg, c);
        sent[r] += b - a;
        return {a, values: out[r].slice(a, b), order: order[r].slice(a, b).map((o) => [...o])};
      });
    });
    for (let r = 0; r < W; r++) {
      const from = plan.prev(r);
      for (let c = 0; c < plan.chunks; c++) {
        const [a, b] = plan.range(plan.recvSegment(r, step), c);
        const m = messages[from][c];
        expect(m.a).toBe(a);
        expect(m.values.length).toBe(b - a);
        for (let i = 0; i < b - a; i++) {
          if (step < plan.firstGatherStep) {
            out[r][a + i] += m.values[i];
            order[r][a + i] = [...m.order[i], r];
          } else {
            out[r][a + i] = m.values[i];
            order[r][a + i] = m.order[i];
          }
        }
      }
    }
  }
  return {out, sent, order};
}

const cases: Array<[number, number, number]> = [
  // [n, world, chunkElems]
  [0, 2, 4], [1, 2, 4], [3, 4, 1], [5, 4, 2], [7, 3, 2], [10, 2, 3], [97, 3, 8], [1000, 4, 7], [1001, 4, 1000], [64, 4, 16],
];

describe.each(cases)('n=%i, world=%i, chunkElems=%i', (n, world, chunkElems) => {
  const plan = ringPlan(n, world, chunkElems);

  test('segments and chunks tile the array; no chunk is larger than chunkElems', () => {
    const seen = new Array(n).fill(0);
    let last = 0;
    for (let k = 0; k < world; k++) {
      for (let c = 0; c < plan.chunks; c++) {
        const [a, b] = plan.range(k, c);
        expect(a).toBe(last);
        expect(b - a).toBeLessThanOrEqual(chunkElems);
        for (let i = a; i < b; i++) seen[i]++;
        last = b;
      }
    }
    expect(last).toBe(n);
    expect(seen.every((x) => x === 1)).toBe(true);
    expect(plan.steps).toBe(2 * (world - 1));
  });

  test('each rank owns one segment; at every step the ranks send distinct segments', () => {
    expect(new Set(Array.from({length: world}, (_, r) => plan.owned(r))).size).toBe(world);
    for (let step = 0; step < plan.steps; step++) {
      expect(new Set(Array.from({length: world}, (_, r) => plan.sendSegment(r, step))).size).toBe(world);
      for (let r = 0; r < world; r++) expect(plan.recvSegment(r, step)).toBe(plan.sendSegment(plan.prev(r), step));
    }
    // The last reduce step delivers the owned segment; the first gather step sends it on.
    for (let r = 0; r < world; r++) {
      expect(plan.recvSegment(r, plan.firstGatherStep - 1)).toBe(plan.owned(r));
      expect(plan.sendSegment(r, plan.firstGatherStep)).toBe(plan.owned(r));
    }
  });

  test('every rank ends with the same bits: every rank added once, in the documented order', () => {
    const inputs = Array.from({length: world}, (_, r) => Float32Array.from({length: n}, (_, i) => Math.fround(Math.sin(i + 7 * r) * 10 ** (r % 3))));
    const {out, sent, order} = simulate(plan, inputs);
    for (let r = 1; r < world; r++) expect(Buffer.from(out[r].buffer)).toEqual(Buffer.from(out[0].buffer));
    for (let k = 0; k < world; k++) {
      // Segment k: starting at rank k, then around the ring, ending at its owner k−1.
      const expectedOrder = Array.from({length: world}, (_, j) => (k + j) % world);
      const [a] = plan.range(k, 0);
      const [, b] = plan.range(k, plan.chunks - 1);
      for (let i = a; i < b; i++) {
        for (let r = 0; r < world; r++) expect(order[r][i]).toEqual(expectedOrder);
        const sum = expectedOrder.reduce((acc, q) => Math.fround(acc + inputs[q][i]), 0);
        expect(out[0][i]).toBe(sum);
      }
    }
    // Bandwidth: each rank sends 2·(W−1) segments, within one value per segment of 2·(W−1)/W·n.
    for (const s of sent) expect(Math.abs(s - (2 * (world - 1) * n) / world)).toBeLessThanOrEqual(2 * (world - 1));
  });
});

test('bad arguments are refused', () => {
  expect(() => ringPlan(-1, 2, 1)).toThrow(/bad arguments/);
  expect(() => ringPlan(4, 1, 1)).toThrow(/bad arguments/);
  expect(() => ringPlan(4, 2, 0)).toThrow(/bad arguments/);
  expect(() => ringPlan(4.5, 2, 1)).toThrow(/bad arguments/);
});
