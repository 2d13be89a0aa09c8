/**
 * The webgl benchmark page: the shared workloads (bench/workloads.ts) on tfjs's webgl backend
 * in headless Chromium. A run is synchronized by reading back one element of each output (a
 * 1-element slice, so downloads do not dominate). Our op, the baseline and the `x.add(1)`
 * yardstick are timed in interleaved rounds (bench/interleave.ts): SwiftShader runs on the
 * machine's CPU cores, which other work shares, so only side-by-side ratios are stable.
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import '../../src/webgl.js';
import type {Row} from '../report.js';
import {timeWorkloads, type TimeOptions} from '../interleave.js';
import {environment, startWebgl} from './webgl_env.js';

/** Waits for `ts` by downloading a single element of each. */
function sync(ts: tf.Tensor[]): void {
  for (const t of ts) {
    const one = tf.slice(t, t.shape.map(() => 0), t.shape.map(() => 1));
    one.dataSync();
    one.dispose();
  }
}


async function run(opts: TimeOptions, only?: string): Promise<{rows: Row[]; environment: string}> {
  await startWebgl();
  const rows = await timeWorkloads(tf, norms, sync, opts, (line: string) => console.log(line), only);
  return {rows, environment: environment()};
}

declare global {
  interface Window {
    normsBench: {run: typeof run};
  }
}

window.normsBench = {run};
