/**
 * Side-by-side timing for noisy, shared machines: the yardstick, our op and the baseline run in
 * rounds (one call of each per round), so that load changes during a run hit all three alike and
 * their ratios stay meaningful. Medians per function.
 */
import type * as tfType from '@tensorflow/tfjs-core';
import type * as normsType from '../src/index.js';
import type {Row} from './report.js';
import {jsLoop, workloads, yardstick} from './workloads.js';

type Fn = () => tfType.Tensor | tfType.Tensor[];
/** Waits for the outputs (synchronously, or through a promise where only async read-back works: webgpu). */
export type Sync = (t: tfType.Tensor[]) => void | Promise<void>;

export interface TimeOptions {
  warmup?: number;
  minRuns?: number;
  /** Keep running rounds until this much time is spent in all (and minRuns are done). */
  minMs?: number;
  maxRuns?: number;
}

export async function timeInterleaved(tf: typeof tfType, fns: Record<string, Fn>, sync: Sync,
                                      opts: TimeOptions = {}): Promise<Record<string, number>> {
  const {warmup = 3, minRuns = 5, minMs = 1500, maxRuns = 200} = opts;
  const names = Object.keys(fns);
  const once = async (f: Fn) => {
    const t0 = performance.now();
    const out = f();
    const list = Array.isArray(out) ? out : [out];
    await sync(list);
    const dt = performance.now() - t0;
    tf.dispose(list);
    return dt;
  };
  for (const n of names) for (let i = 0; i < warmup; i++) await once(fns[n]);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  // minMs bounds the rounds' total time: a slow baseline must not multiply a fast op's rounds.
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

/**
 * Every workload of bench/workloads.ts on the active backend: ours, the baseline and the
 * `x.add(1)` yardstick of the same shape, interleaved; one row each. `only` keeps the workloads
 * whose "op mode" label contains it. With `withJsLoop` (the cpu section) a plain JavaScript loop
 * over a Float32Array of the same size runs in the same rounds: the true memory yardstick there.
 */
export async function timeWorkloads(tf: typeof tfType, norms: typeof normsType, sync: Sync,
                                    opts: TimeOptions, log: (s: string) => void, only?: string,
                                    withJsLoop = false): Promise<Row[]> {
  const rows: Row[] = [];
  const sticks = new Map<string, ReturnType<typeof yardstick>>();
  const tfAll = tf as never as Parameters<typeof workloads>[0];
  for (const w of workloads(tfAll, norms)) {
    if (only && !`${w.op} ${w.mode}`.includes(only)) {
      w.dispose();
      continue;
    }
    const key = String(w.shape);
    if (!sticks.has(key)) sticks.set(key, yardstick(tfAll, w.shape));
    const fns: Record<string, Fn> = {ours: w.ours, add: sticks.get(key)!.run};
    if (w.baseline) fns.baseline = w.baseline;
    if (withJsLoop) fns.jsLoop = jsLoop(Float32Array.from({length: w.shape.reduce((a, b) => a * b, 1)}, Math.random));
    const t = await timeInterleaved(tf, fns, sync, opts);
    const base = w.baseline ? t.baseline : null;
    rows.push({op: w.op, shape: w.shape, mode: w.mode, traffic: w.traffic, oursMs: t.ours,
      baselineName: w.baselineName, baselineMs: base, baselineError: w.baselineError, addMs: t.add,
      ...(withJsLoop ? {jsLoopMs: t.jsLoop} : {})});
    log(`${tf.getBackend().padEnd(10)} ${w.op.padEnd(30)} ${w.mode.padEnd(17)} ours ${t.ours.toFixed(2)} ms  ` +
        `baseline ${base === null ? 'fails' : base.toFixed(2) + ' ms'}  add ${t.add.toFixed(3)} ms` +
        (withJsLoop ? `  JS loop ${t.jsLoop.toFixed(3)} ms` : ''));
    w.dispose();
  }
  for (const y of sticks.values()) y.dispose();
  return rows;
}
