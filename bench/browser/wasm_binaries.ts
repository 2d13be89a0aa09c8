/** Node side of wasm_env.ts: tfjs-backend-wasm's binaries, base64, to hand to a page. */
import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';

const BINARIES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];

export function wasmBinaries(): Record<string, string> {
  const dir = dirname(createRequire(join(process.cwd(), 'package.json')).resolve('@tensorflow/tfjs-backend-wasm'));
  return Object.fromEntries(BINARIES.map((name) => [name, readFileSync(join(dir, name)).toString('base64')]));
}
