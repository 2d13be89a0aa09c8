/**
 * The webgl benchmark page: the shared workloads (bench/workloads.ts) on tfjs's webgl backend
 * in headless Chromium, timed with bench/timing.ts. A run is synchronized by reading back one
 * element of each output (a 1-element slice, so downloads do not dominate).
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import '../../src/webgl.js';
import type {Row} from '../report.js';
import {timeIt, type TimeOptions} from '../timing.js';
import {workloads, yardstick} from '../workloads.js';

/** Waits for `ts` by downloading a single element of each. */
function sync(ts: tf.Tensor[]): void {
  for (const t of ts) {
    const one = tf.slice(t, t.shape.map(() => 0), t.shape.map(() => 1));
    one.dataSync();
    one.dispose();
  }
}

function renderer(): string {
  const gl = (tf.backend() as unknown as {gpgpu: {gl: WebGL2RenderingContext}}).gpgpu.gl;
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
}

async function run(opts: TimeOptions, only?: string): Promise<{rows: Row[]; environment: string}> {
  await tf.setBackend('webgl');
  await tf.ready();
  if (!tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')) throw new Error('webgl backend without float32 render targets');
  const addMs = new Map<string, number>();
  const rows: Row[] = [];
  for (const w of workloads(tf, norms)) {
    if (only && !`${w.op} ${w.mode}`.includes(only)) {
      w.dispose();
      continue;
    }
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
    console.log(`webgl ${w.op.padEnd(32)} ${w.mode.padEnd(17)} ours ${ours.toFixed(2)} ms  ` +
      `baseline ${base === null ? 'fails' : base.toFixed(2) + ' ms'}  add ${row.addMs.toFixed(2)} ms`);
    w.dispose();
  }
  const ua = navigator.userAgent.match(/Chrom(e|ium)\/([\d.]+)/);
  return {rows, environment: `Chromium ${ua ? ua[2] : '?'} headless, WebGL 2 on ${renderer()}, ` +
    `${navigator.hardwareConcurrency} CPU threads, tfjs ${tf.version.tfjs}`};
}

declare global {
  interface Window {
    normsBench: {run: typeof run};
  }
}

window.normsBench = {run};
