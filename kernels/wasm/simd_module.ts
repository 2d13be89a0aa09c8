/**
 * The WebAssembly SIMD build of the loops (kernels/wasm/simd/norm_simd.c), instantiated on
 * tfjs-backend-wasm's own memory so it reads and writes tensors in place.
 *
 * Loading is asynchronous (browsers refuse to compile modules over 4 KB synchronously on the main
 * thread): the module is compiled when `tfjs-norms/wasm` is imported and instantiated on a
 * backend's memory the first time one of our kernels runs there (or by `wasmSimdReady()`); until
 * then the kernels run the JavaScript loops. Where the build cannot run (no SIMD support, a
 * threaded build's shared memory, a tfjs-backend-wasm without its memory in `wasm.asm`), the
 * kernels keep the JavaScript loops.
 */
import type {KernelBackend} from '@tensorflow/tfjs-core';
import type {BackendWasm} from '@tensorflow/tfjs-backend-wasm';
import {NORM_SIMD_WASM_BASE64} from './simd/norm_simd_bytes.js';

/** Bytes of tfjs's heap reserved per backend for the loops' tables and partial sums. */
export const SCRATCH_BYTES = 1 << 21;

type Ptr = number;
export interface SimdExports {
  stats_runs(x: Ptr, runs: number, len: number, tmod: number, k: Ptr, s1: Ptr, s2: Ptr): void;
  stats_rows(x: Ptr, rows: number, C: number, k: Ptr, s1: Ptr, s2: Ptr, acc: Ptr): void;
  apply_runs(x: Ptr, y: Ptr, runs: number, len: number, tmod: number, k: Ptr, mo: Ptr, sc: Ptr, bt: Ptr,
             act: number, alpha: number): void;
  apply_rows(x: Ptr, y: Ptr, rows: number, C: number, k: Ptr, mo: Ptr, sc: Ptr, bt: Ptr, act: number,
             alpha: number): void;
  slots_forward(x: Ptr, y: Ptr, slots: number, groups: number, cpg: number, S: number, g: Ptr, b: Ptr, eps: number,
                act: number, alpha: number, mode: number, shift: Ptr, meanOffset: Ptr, variance: Ptr,
                exactMean: Ptr): void;
  reduce_runs(dy: Ptr, x: Ptr, runs: number, len: number, tmod: number, k: Ptr, mo: Ptr, r: Ptr, gm: Ptr, bt: Ptr,
              act: number, alpha: number, s1: Ptr, s2: Ptr): void;
  reduce_rows(dy: Ptr, x: Ptr, rows: number, C: number, k: Ptr, mo: Ptr, r: Ptr, gm: Ptr, bt: Ptr, act: number,
              alpha: number, s1: Ptr, s2: Ptr, acc: Ptr): void;
  reduce_ln(dy: Ptr, x: Ptr, rows: number, C: number, rk: Ptr, rmo: Ptr, rr: Ptr, gm: Ptr, bt: Ptr, act: number,
            alpha: number, chDz: Ptr, chDzX: Ptr, rowSg: Ptr, rowSgx: Ptr, acc: Ptr): void;
  bapply_runs(dy: Ptr, x: Ptr, dx: Ptr, runs: number, len: number, tmod: number, tab: Ptr, act: number,
              alpha: number): void;
  bapply_rows(dy: Ptr, x: Ptr, dx: Ptr, rows: number, C: number, tab: Ptr, act: number, alpha: number): void;
  bapply_ln(dy: Ptr, x: Ptr, dx: Ptr, rows: number, C: number, rtab: Ptr, gm: Ptr, bt: Ptr, act: number,
            alpha: number): void;
  rms_forward(x: Ptr, gamma: Ptr, y: Ptr, invRms: Ptr, rows: number, D: number, eps: number): void;
  rms_backward(dy: Ptr, x: Ptr, invRms: Ptr, gamma: Ptr, dx: Ptr, dgamma: Ptr, rows: number, D: number, dg: Ptr,
               acc: Ptr): void;
}

/** The SIMD functions on one backend's memory, with that backend's scratch block. */
export interface SimdInstance {
  fns: SimdExports;
  memory: WebAssembly.Memory;
  scratch: Ptr;
  scratchBytes: number;
}

interface EmscriptenModule {
  asm?: {memory?: unknown};
  _malloc?: (bytes: number) => number;
}

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

let compiled: Promise<WebAssembly.Module | null> | null = null;

/** Compiles the module once (asynchronously); null where it cannot be compiled. */
export function compileSimd(): Promise<WebAssembly.Module | null> {
  compiled ??= (typeof WebAssembly === 'object' && typeof atob === 'function'
    ? WebAssembly.compile(decode(NORM_SIMD_WASM_BASE64)).catch(() => null)
    : Promise.resolve(null));
  return compiled;
}

type State = {instance: SimdInstance | null} | {pending: Promise<SimdInstance | null>};
const states = new WeakMap<object, State>();

async function instantiate(backend: BackendWasm): Promise<SimdInstance | null> {
  const module = await compileSimd();
  const em = backend.wasm as unknown as EmscriptenModule;
  const memory = em.asm?.memory;
  if (module === null || !(memory instanceof WebAssembly.Memory) || typeof em._malloc !== 'function') return null;
  try {
    const instance = await WebAssembly.instantiate(module, {env: {memory}});
    // Reserved once, between kernels (a malloc may grow the heap and detach views).
    const scratch = em._malloc(SCRATCH_BYTES);
    if (scratch === 0) return null;
    return {fns: instance.exports as unknown as SimdExports, memory, scratch, scratchBytes: SCRATCH_BYTES};
  } catch {
    return null;
  }
}

/** Starts (once) loading the SIMD build on `backend`'s memory; resolves to it, or null. */
export function loadSimd(backend: KernelBackend): Promise<SimdInstance | null> {
  const state = states.get(backend);
  if (state !== undefined) return 'pending' in state ? state.pending : Promise.resolve(state.instance);
  const pending = instantiate(backend as BackendWasm).then((instance) => {
    states.set(backend, {instance});
    return instance;
  });
  states.set(backend, {pending});
  return pending;
}

/** The SIMD build on `backend` if it is loaded; otherwise starts loading it and returns null. */
export function simdInstance(backend: KernelBackend): SimdInstance | null {
  const state = states.get(backend);
  if (state === undefined) {
    void loadSimd(backend);
    return null;
  }
  return 'instance' in state ? state.instance : null;
}
