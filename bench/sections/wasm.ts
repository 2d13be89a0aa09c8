/**
 * The wasm sections: every workload on tfjs-backend-wasm in this process (Node; SIMD on, no
 * threads), with our wasm kernels (`wasm`) and with the composite path that a backend without
 * our kernels takes (`composite`, TFJS_NORMS_COMPOSITE on wasm).
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {cpus} from 'node:os';
import * as norms from '../../src/index.js';
import {wasmSimdReady} from '../../src/wasm.js';
import {NORMS_COMPOSITE, NORMS_WASM_SIMD, setFlags} from '../../src/flags.js';
import type {SectionResult} from '../report.js';
import {timeWorkloads, type TimeOptions} from '../interleave.js';

async function runOnWasm(section: string, composite: boolean, opts: TimeOptions,
                         log: (s: string) => void): Promise<SectionResult> {
  if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend did not start');
  // BENCH_WASM_SIMD=0 times the JavaScript loops instead of the SIMD build (docs/kernels.md).
  const simdLoops = process.env.BENCH_WASM_SIMD !== '0';
  const restore = setFlags({[NORMS_COMPOSITE]: composite, [NORMS_WASM_SIMD]: simdLoops});
  if (!composite && simdLoops && !(await wasmSimdReady())) throw new Error('the wasm SIMD loops did not load');
  // tfjs-layers' LayerNorm backward takes over a minute per run on wasm: three timed runs.
  const runs = {...opts, warmup: Math.min(opts.warmup ?? 1, 1), minRuns: Math.min(opts.minRuns ?? 3, 3)};
  try {
    const rows = await timeWorkloads(tf, norms, () => {}, runs, log);
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    return {
      section, backend: 'wasm',
      environment: `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, tfjs ${tf.version.tfjs}, ` +
        `tfjs-backend-wasm SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'}, ${runs.minRuns}+ timed runs` +
        (composite ? '; tfjs-norms ops as compositions of tfjs kernels (TFJS_NORMS_COMPOSITE)'
          : `; tfjs-norms loops: ${simdLoops ? 'WebAssembly SIMD build' : 'JavaScript (BENCH_WASM_SIMD=0)'}`),
      date: new Date().toISOString().slice(0, 10), rows,
    };
  } finally {
    restore();
  }
}

export const runWasm = (opts: TimeOptions, log: (s: string) => void) => runOnWasm('wasm', false, opts, log);
export const runComposite = (opts: TimeOptions, log: (s: string) => void) => runOnWasm('composite', true, opts, log);
