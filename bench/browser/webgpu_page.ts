/**
 * The webgpu benchmark page: the shared workloads (bench/workloads.ts) on tfjs-backend-webgpu in
 * headless Chromium (WebGPU on the SwiftShader adapter, i.e. on the CPU cores). A run waits for
 * one element of each output, read asynchronously (WebGPU has no synchronous read-back; tfjs's
 * canvas-based `dataSync` returns zeros on this adapter). Ours, the baseline and `x.add(1)` are
 * interleaved (bench/interleave.ts), so only side-by-side ratios matter.
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import '../../src/webgpu.js';
import type {Row} from '../report.js';
import {timeWorkloads, type TimeOptions} from '../interleave.js';
import {startWebgpu} from '../../test/webgpu/gpu_env.js';

async function sync(ts: tf.Tensor[]): Promise<void> {
  for (const t of ts) {
    const one = tf.slice(t, t.shape.map(() => 0), t.shape.map(() => 1));
    await one.data();
    one.dispose();
  }
}

async function run(opts: TimeOptions, only?: string): Promise<{rows: Row[]; environment: string}> {
  const env = await startWebgpu();
  const rows = await timeWorkloads(tf, norms, sync, opts, (line: string) => console.log(line), only);
  const ua = navigator.userAgent.match(/Chrom(e|ium)\/([\d.]+)/);
  return {rows, environment: `Chromium ${ua ? ua[2] : '?'} headless, WebGPU on ${env.vendor} ${env.architecture}, ` +
    `${navigator.hardwareConcurrency} CPU threads, tfjs ${tf.version.tfjs}`};
}

declare global {
  interface Window {
    normsBenchWebgpu: {run: typeof run};
  }
}

window.normsBenchWebgpu = {run};
