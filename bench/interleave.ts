/**
 * Side-by-side timing for noisy, shared machines: the yardstick, our op and the baseline run in
 * rounds (one call of each per round), so that load changes during a run hit all three alike and
 * their ratios stay meaningful. Medians per function.
 */
import type * as tfType from '@tensorflow/tfjs-core';
import type {TimeOptions} from './timing.js';

type Fn = () => tfType.Tensor | tfType.Tensor[];

export function timeInterleaved(tf: typeof tfType, fns: Record<string, Fn>, sync: (t: tfType.Tensor[]) => void,
                                opts: TimeOptions = {}): Record<string, number> {
  const {warmup = 3, minRuns = 5, minMs = 1500, maxRuns = 200} = opts;
  const names = Object.keys(fns);
  const once = (f: Fn) => {
    const t0 = performance.now();
    const out = f();
    const list = Array.isArray(out) ? out : [out];
    sync(list);
    const dt = performance.now() - t0;
    tf.dispose(list);
    return dt;
  };
  for (const n of names) for (let i = 0; i < warmup; i++) once(fns[n]);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  // minMs bounds the time spent in the first function (ours), as timeIt does for one function.
  let spent = 0;
  for (let r = 0; r < maxRuns && (r < minRuns || spent < minMs); r++) {
    for (const n of names) {
      const dt = once(fns[n]);
      times[n].push(dt);
      if (n === names[0]) spent += dt;
    }
  }
  return Object.fromEntries(names.map((n) => {
    const t = times[n].sort((a, b) => a - b);
    return [n, t[Math.floor(t.length / 2)]];
  }));
}
