/**
 * Starting tfjs-backend-wasm in a page opened from file://, where the backend cannot fetch its
 * .wasm binary next to the script: the Node side reads the binaries (`wasmBinaries`, in
 * wasm_binaries.ts) and hands them to the page, which serves them to the backend as blob: URLs.
 */
import * as tf from '@tensorflow/tfjs';
import {setWasmPaths} from '@tensorflow/tfjs-backend-wasm';

/** Binary file name → base64 contents. */
export type WasmBinaries = Record<string, string>;

export interface WasmEnv {
  backend: string;
  simd: boolean;
  threads: boolean;
}

function blobUrl(base64: string): string {
  const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  return URL.createObjectURL(new Blob([bytes], {type: 'application/wasm'}));
}

export async function startWasm(binaries: WasmBinaries, flags: Record<string, boolean> = {}): Promise<WasmEnv> {
  setWasmPaths(Object.fromEntries(Object.entries(binaries).map(([name, b64]) => [name, blobUrl(b64)])));
  for (const [k, v] of Object.entries(flags)) tf.env().set(k, v);
  await tf.setBackend('wasm');
  await tf.ready();
  return {
    backend: tf.getBackend(),
    simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') as boolean,
    threads: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT') as boolean,
  };
}
