/**
 * The memory benchmark's webgl page: bench/memory_workload.ts on tfjs's webgl backend in headless
 * Chromium. Steps wait for the GPU by reading the loss back (WebGL runs commands in order, so the
 * backward pass and the updates queued before it have finished too).
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import '../../src/webgl.js';
import {runMemoryBench, type MemoryRow, type MemoryShape} from '../memory_workload.js';
import {environment, startWebgl} from './webgl_env.js';

async function run(shape: MemoryShape, runs: number): Promise<{rows: MemoryRow[]; environment: string}> {
  await startWebgl();
  const rows = await runMemoryBench(tf, norms, shape, runs, (t) => { t.dataSync(); }, (line) => console.log(line));
  return {rows, environment: environment()};
}

declare global {
  interface Window {
    normsMemory: {run: typeof run};
  }
}

window.normsMemory = {run};
