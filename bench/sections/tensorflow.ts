/**
 * The tensorflow section: every workload on tfjs-node's `tensorflow` backend (TensorFlow's
 * eager ops, oneDNN on x86 CPUs), in this process. tfjs-node is loaded here, on demand, and the
 * backend set explicitly, so the other sections are unaffected. The baselines are tfjs-layers'
 * layers and the `tf.moments` composites on the same backend.
 */
import type * as tfType from '@tensorflow/tfjs';
import {cpus} from 'node:os';
import * as norms from '../../src/index.js';
import '../../src/node.js';
import type {Row, SectionResult} from '../report.js';
import {timeIt, type TimeOptions} from '../timing.js';
import {workloads, yardstick} from '../workloads.js';

interface NodeBackendInfo {
  isUsingGpuDevice: boolean;
  binding: {TF_Version: string};
}

export async function runTensorflow(opts: TimeOptions, log: (s: string) => void): Promise<SectionResult> {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  const tf = (await import('@tensorflow/tfjs-node')) as unknown as typeof tfType;
  await tf.setBackend('tensorflow');
  if (tf.getBackend() !== 'tensorflow') throw new Error('the tensorflow backend did not start');
  const info = tf.backend() as unknown as NodeBackendInfo;
  // TensorFlow's CPU kernels run synchronously; on a GPU, read one element to wait for the queue.
  const sync = info.isUsingGpuDevice
    ? (t: tfType.Tensor[]) => { tf.tidy(() => tf.slice(tf.reshape(t[0], [-1]), 0, 1)).dataSync(); }
    : () => {};
  const addMs = new Map<string, number>();
  const rows: Row[] = [];
  for (const w of workloads(tf, norms)) {
    const key = String(w.shape);
    if (!addMs.has(key)) {
      const y = yardstick(tf, w.shape);
      addMs.set(key, timeIt(tf, y.run, sync, opts).median);
      y.dispose();
    }
    const ours = timeIt(tf, w.ours, sync, opts).median;
    const base = w.baseline ? timeIt(tf, w.baseline, sync, opts).median : null;
    const row: Row = {op: w.op, shape: w.shape, mode: w.mode, traffic: w.traffic, oursMs: ours,
      baselineName: w.baselineName, baselineMs: base, baselineError: w.baselineError, addMs: addMs.get(key)!};
    rows.push(row);
    log(`tensorflow  ${w.op.padEnd(28)} ${w.mode.padEnd(17)} ours ${ours.toFixed(2)} ms  ` +
        `baseline ${base === null ? 'fails' : base.toFixed(2) + ' ms'}  add ${row.addMs.toFixed(3)} ms`);
    w.dispose();
  }
  return {
    section: 'tensorflow', backend: 'tensorflow',
    environment: `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ` +
      `tfjs-node ${(tf.version as Record<string, string>)['tfjs-node'] ?? tf.version.tfjs}, ` +
      `libtensorflow ${info.binding.TF_Version} (${info.isUsingGpuDevice ? 'GPU' : 'CPU, oneDNN'})`,
    date: new Date().toISOString().slice(0, 10), rows,
  };
}
