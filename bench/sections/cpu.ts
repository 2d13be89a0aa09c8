/** The cpu section: every workload on tfjs's cpu backend, in this process. */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import type {Row, SectionResult} from '../report.js';
import {timeIt, type TimeOptions} from '../timing.js';
import {workloads, yardstick} from '../workloads.js';
import {cpus} from 'node:os';

export async function runCpu(opts: TimeOptions, log: (s: string) => void): Promise<SectionResult> {
  await tf.setBackend('cpu');
  const noSync = () => {};
  const addMs = new Map<string, number>();
  const rows: Row[] = [];
  for (const w of workloads(tf, norms)) {
    const key = String(w.shape);
    if (!addMs.has(key)) {
      const y = yardstick(tf, w.shape);
      addMs.set(key, timeIt(tf, y.run, noSync, opts).median);
      y.dispose();
    }
    const ours = timeIt(tf, w.ours, noSync, opts).median;
    const base = w.baseline ? timeIt(tf, w.baseline, noSync, opts).median : null;
    const row: Row = {op: w.op, shape: w.shape, mode: w.mode, traffic: w.traffic, oursMs: ours,
      baselineName: w.baselineName, baselineMs: base, baselineError: w.baselineError, addMs: addMs.get(key)!};
    rows.push(row);
    log(`cpu  ${w.op.padEnd(32)} ${w.mode.padEnd(17)} ours ${ours.toFixed(2)} ms  ` +
        `baseline ${base === null ? 'fails' : base.toFixed(2) + ' ms'}  add ${row.addMs.toFixed(2)} ms`);
    w.dispose();
  }
  return {
    section: 'cpu', backend: 'cpu',
    environment: `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, tfjs ${tf.version.tfjs}`,
    date: new Date().toISOString().slice(0, 10), rows,
  };
}
