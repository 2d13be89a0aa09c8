/**
 * The arithmetic of the ring all-reduce (reduce-scatter, then all-gather) over `world` ranks:
 * which part of the array each rank sends and receives at each step.
 *
 * Self-contained (the network thread is started from source text): it uses nothing but its
 * arguments and JavaScript globals.
 *
 * The array of `n` values is cut into `world` segments (segment k starts at ⌊n·k/world⌋), and
 * every segment into the same number of chunks (`chunks`, each at most `chunkElems` values):
 * chunk c of every segment travels in pipeline lane c, so that a rank forwards chunk c as soon
 * as it has it while later chunks are still on the wire. In step t (0 ≤ t < 2·(world−1)) rank r
 * sends one segment to rank r+1 and receives one from rank r−1:
 *
 * - reduce-scatter, t < world−1: r sends segment (r−t) mod world; the receiver adds its own
 *   values to it. After world−1 steps rank r holds the full sum of segment (r+1) mod world, its
 *   *owned* segment, added up in a fixed order: segment k starts at rank k and goes around the
 *   ring to its owner k−1: (((x[k] + x[k+1]) + …) + x[k−1]).
 * - all-gather, t ≥ world−1: r sends segment (r+1−t') mod world (t' = t − (world−1)); the
 *   receiver copies it. Every rank ends with the owners' bytes: the same bits everywhere.
 *
 * Each rank sends and receives 2·(world−1) segments, i.e. 2·(world−1)/world of the array.
 */
export type RingPlan = ReturnType<typeof ringPlan>;

export function ringPlan(n: number, world: number, chunkElems: number) {
  if (!(Number.isInteger(n) && n >= 0 && Number.isInteger(world) && world >= 2 && Number.isInteger(chunkElems) && chunkElems >= 1)) {
    throw new RangeError(`ringPlan: bad arguments n=${n}, world=${world}, chunkElems=${chunkElems}`);
  }
  const mod = (a: number) => ((a % world) + world) % world;
  const segmentStart = (k: number) => Math.floor((n * k) / world);
  const chunks = Math.max(1, Math.ceil(Math.ceil(n / world) / chunkElems));
  const steps = 2 * (world - 1);
  /** The segment `rank` sends at `step`. */
  const sendSegment = (rank: number, step: number) =>
    (step < world - 1 ? mod(rank - step) : mod(rank + 1 - (step - (world - 1))));

  return {
    n, world, chunks, steps,
    /** Steps below this one reduce (add); from it on they gather (copy). */
    firstGatherStep: world - 1,
    /** [start, end) of chunk `c` of segment `k`. */
    range(k: number, c: number): [number, number] {
      const a = segmentStart(k);
      const len = segmentStart(k + 1) - a;
      return [a + Math.floor((len * c) / chunks), a + Math.floor((len * (c + 1)) / chunks)];
    },
    sendSegment,
    /** The segment `rank` receives at `step` (what its predecessor sends). */
    recvSegment: (rank: number, step: number) => sendSegment(mod(rank - 1), step),
    /** The segment whose sum `rank` computes. */
    owned: (rank: number) => mod(rank + 1),
    next: (rank: number) => mod(rank + 1),
    prev: (rank: number) => mod(rank - 1),
  };
}
