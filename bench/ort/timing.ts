/**
 * Timing for the ONNX Runtime comparison: one call of each function per round, each after an
 * idle gap (ORT's intra-op threads spin for a while after a run; the gap lets them park so they
 * do not slow the next engine), medians over rounds. On a shared machine load comes in bursts, so
 * ratios are taken within each round and their median reported (`ratio`).
 */
import type {TimeOptions} from '../interleave.js';

export type Timed = () => void | Promise<void>;

// 25 ms, not 5: with 5 ms the process's CPU time during our single-threaded cpu kernels was ~2×
// their wall time (ORT's and TensorFlow's pools still spinning from the previous call), and cpu
// LayerNorm measured 11.7 ms against 4.7 ms with the longer gap. BENCH_ORT_GAP_MS overrides it.
const GAP_MS = Number(process.env.BENCH_ORT_GAP_MS ?? 25);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Rounds {
  /** Median time per function. */
  ms: Record<string, number>;
  /** Median CPU time per function (this process, every thread: user + system). */
  cpuMs: Record<string, number>;
  /** Median over rounds of `a`'s time over `b`'s in the same round. */
  ratio(a: string, b: string): number;
  /** Median over rounds of `a`'s CPU time over `b`'s. */
  cpuRatio(a: string, b: string): number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function timeRounds(fns: Record<string, Timed>, opts: TimeOptions): Promise<Rounds> {
  const {warmup = 3, minRuns = 9, minMs = 1500, maxRuns = 200} = opts;
  const names = Object.keys(fns);
  const once = async (f: Timed) => {
    await sleep(GAP_MS);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await f();
    const dt = performance.now() - t0;
    const c = process.cpuUsage(c0);
    return [dt, (c.user + c.system) / 1000];
  };
  for (let i = 0; i < warmup; i++) for (const n of names) await once(fns[n]);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  let spent = 0;
  for (let r = 0; r < maxRuns && (r < minRuns || spent < minMs); r++) {
    for (const n of names) {
      const [dt, c] = await once(fns[n]);
      times[n].push(dt);
      cpu[n].push(c);
      spent += dt;
    }
  }
  return {
    ms: Object.fromEntries(names.map((n) => [n, median(times[n])])),
    cpuMs: Object.fromEntries(names.map((n) => [n, median(cpu[n])])),
    ratio: (a, b) => median(times[a].map((t, i) => t / times[b][i])),
    cpuRatio: (a, b) => median(cpu[a].map((t, i) => t / cpu[b][i])),
  };
}
