/**
 * The memory benchmark's webgl page: bench/memory_workload.ts on tfjs's webgl backend in headless
 * Chromium. Steps wait for the GPU by reading the loss back (WebGL runs commands in order, so the
 * backward pass and the updates queued before it have finished too).
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import '../../src/webgl.js';
import {runMemoryBench, type MemoryRow, type MemoryShape} from '../memory_workload.js';

function renderer(): string {
  const gl = (tf.backend() as unknown as {gpgpu: {gl: WebGL2RenderingContext}}).gpgpu.gl;
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
}

async function run(shape: MemoryShape, runs: number): Promise<{rows: MemoryRow[]; environment: string}> {
  await tf.setBackend('webgl');
  await tf.ready();
  if (!tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED')) throw new Error('webgl backend without float32 render targets');
  const rows = await runMemoryBench(tf, norms, shape, runs, (t) => { t.dataSync(); }, (line) => console.log(line));
  const ua = navigator.userAgent.match(/Chrom(e|ium)\/([\d.]+)/);
  return {rows, environment: `Chromium ${ua ? ua[2] : '?'} headless, WebGL 2 on ${renderer()}, ` +
    `${navigator.hardwareConcurrency} CPU threads, tfjs ${tf.version.tfjs}`};
}

declare global {
  interface Window {
    normsMemory: {run: typeof run};
  }
}

window.normsMemory = {run};
