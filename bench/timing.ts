/** Median wall time of a synchronous workload, after warm-up. */
import type * as tfType from '@tensorflow/tfjs-core';

export interface Timing {median: number; min: number; runs: number}

export interface TimeOptions {
  warmup?: number;
  minRuns?: number;
  /** Keep running until this much time is spent (and minRuns are done). */
  minMs?: number;
  maxRuns?: number;
}

/**
 * Times `fn`, which returns the tensors it produced; `sync` waits for them (a no-op on cpu,
 * reading back one element on webgl) and they are disposed after each run.
 */
export function timeIt(tf: typeof tfType, fn: () => tfType.Tensor | tfType.Tensor[],
                       sync: (t: tfType.Tensor[]) => void, opts: TimeOptions = {}): Timing {
  const {warmup = 3, minRuns = 5, minMs = 1500, maxRuns = 200} = opts;
  const once = () => {
    const t0 = performance.now();
    const out = fn();
    const list = Array.isArray(out) ? out : [out];
    sync(list);
    const dt = performance.now() - t0;
    tf.dispose(list);
    return dt;
  };
  for (let i = 0; i < warmup; i++) once();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < maxRuns && (times.length < minRuns || performance.now() - start < minMs)) {
    times.push(once());
  }
  times.sort((a, b) => a - b);
  return {median: times[Math.floor(times.length / 2)], min: times[0], runs: times.length};
}
