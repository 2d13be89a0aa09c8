/**
 * The in-browser side of the wasm suite: @tensorflow/tfjs with tfjs-backend-wasm, tfjs-norms
 * and its wasm kernels, and the fixture checker, opened in headless Chromium by
 * wasm_browser.test.ts, which calls `window.normsWasm` and asserts on what it returns.
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import {wasmKernelsRegistered, wasmSimdReady} from '../../src/wasm.js';
import {simdCalls} from '../../kernels/wasm/simd_loops.js';
import {isCompositeKernel} from '../../kernels/composite/register_all.js';
import {prepareBackend} from '../../kernels/composite/install.js';
import {NORMS_COMPOSITE, withFlags} from '../../src/flags.js';
import {NormsApply, NormsBackwardTraining} from '../../src/kernel_names.js';
import {checkCase, type FixtureCase, type NormOps} from '../support/fixtures.js';
import {startWasm, type WasmBinaries, type WasmEnv} from '../../bench/browser/wasm_env.js';

/** How the fixtures run: our wasm kernels, with the two-kernel backward, or the composite path. */
export type Mode = 'fused' | 'split' | 'composite';

export interface CaseResult {
  bad: string[];
  /** Tensors and wasm data ids left behind (both must be 0). */
  leakedTensors: number;
  leakedDataIds: number;
  error?: string;
}

export interface ModeResult {
  /** Whether the composite kernels served the ops in this mode. */
  composite: boolean;
  results: Record<string, CaseResult>;
  /** Calls of each loop that ran on the WebAssembly SIMD build during this mode. */
  simdCalls: Record<string, number>;
}

const dataIds = () => tf.backend().numDataIds();

function check(c: FixtureCase): CaseResult {
  const t0 = tf.memory().numTensors;
  const d0 = dataIds();
  const left = () => ({leakedTensors: tf.memory().numTensors - t0, leakedDataIds: dataIds() - d0});
  try {
    const bad = checkCase(tf, norms as unknown as NormOps, c);
    return {bad, ...left()};
  } catch (e) {
    return {bad: [], ...left(), error: (e as Error).stack ?? String(e)};
  }
}

function runCases(cases: FixtureCase[]): ModeResult {
  prepareBackend('wasm');
  const composite = isCompositeKernel(tf.getKernel(NormsApply, 'wasm'));
  const before = {...simdCalls};
  const results = Object.fromEntries(cases.map((c) => [c.name, check(c)]));
  const calls = Object.fromEntries(Object.entries(simdCalls).map(([k, n]) => [k, n - (before[k] ?? 0)]));
  return {composite, results, simdCalls: calls};
}

function runFixtures(cases: FixtureCase[], mode: Mode): ModeResult {
  if (mode === 'composite') return withFlags({[NORMS_COMPOSITE]: true}, () => runCases(cases));
  if (mode === 'fused') return runCases(cases);
  const fused = tf.getKernel(NormsBackwardTraining, 'wasm')!;
  tf.unregisterKernel(NormsBackwardTraining, 'wasm');
  try {
    return runCases(cases);
  } finally {
    tf.registerKernel(fused);
  }
}

async function setup(binaries: WasmBinaries): Promise<WasmEnv & {kernelsRegistered: boolean; simdLoaded: boolean}> {
  const env = await startWasm(binaries);
  // The SIMD loops load asynchronously (a page may not compile a module this size synchronously).
  return {...env, kernelsRegistered: wasmKernelsRegistered, simdLoaded: await wasmSimdReady()};
}

declare global {
  interface Window {
    normsWasm: typeof api;
  }
}

const api = {setup, runFixtures};
window.normsWasm = api;
