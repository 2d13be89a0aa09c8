/** The cpu section: every workload on tfjs's cpu backend, in this process. */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import type {SectionResult} from '../report.js';
import {timeWorkloads, type TimeOptions} from '../interleave.js';
import {cpus} from 'node:os';

export async function runCpu(opts: TimeOptions, log: (s: string) => void): Promise<SectionResult> {
  await tf.setBackend('cpu');
  const rows = await timeWorkloads(tf, norms, () => {}, opts, log, process.env.TFJS_NORMS_BENCH_ONLY, true);
  return {
    section: 'cpu', backend: 'cpu',
    environment: `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, tfjs ${tf.version.tfjs}`,
    date: new Date().toISOString().slice(0, 10), rows,
  };
}
