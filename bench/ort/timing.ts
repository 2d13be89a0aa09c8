/**
 * Timing for the ONNX Runtime comparison: one call of each function per round, each after an
 * idle gap (ORT's intra-op threads spin for a while after a run; the gap lets them park so they
 * do not slow the next engine), medians over rounds.
 */
import type {TimeOptions} from '../interleave.js';

export type Timed = () => void | Promise<void>;

const GAP_MS = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function timeRounds(fns: Record<string, Timed>, opts: TimeOptions): Promise<Record<string, number>> {
  const {warmup = 3, minRuns = 9, minMs = 1500, maxRuns = 200} = opts;
  const names = Object.keys(fns);
  const once = async (f: Timed) => {
    await sleep(GAP_MS);
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  for (let i = 0; i < warmup; i++) for (const n of names) await once(fns[n]);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  let spent = 0;
  for (let r = 0; r < maxRuns && (r < minRuns || spent < minMs); r++) {
    for (const n of names) {
      const dt = await once(fns[n]);
      times[n].push(dt);
      spent += dt;
    }
  }
  return Object.fromEntries(names.map((n) => {
    const t = times[n].sort((a, b) => a - b);
    return [n, t[Math.floor(t.length / 2)]];
  }));
}
