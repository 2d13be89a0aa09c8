/**
 * The one-op ONNX models of the ONNX Runtime comparison, written at bench time by
 * bench/ort/make_models.py with the `onnx` package from PyPI (installed into .cache/onnx-py when
 * missing; the benchmark's own set-up, never `npm test`'s).
 */
import {execFileSync} from 'node:child_process';
import {existsSync, statSync} from 'node:fs';
import {join, resolve} from 'node:path';

const ONNX_VERSION = '1.23.2';
const SCRIPT = 'bench/ort/make_models.py';
const PY_DIR = '.cache/onnx-py';
export const MODEL_DIR = '.cache/ort-models';
export const MODELS = ['layer_norm', 'instance_norm', 'group_norm', 'batch_norm', 'rms_norm', 'add_ln', 'add_nchw'];

function python(args: string[]): void {
  execFileSync('python3', args, {stdio: 'inherit', env: {...process.env, PYTHONPATH: resolve(PY_DIR)}});
}

/** The models' folder, (re)built when a model is missing or older than the script. */
export function ensureModels(log: (s: string) => void): string {
  const stale = MODELS.some((m) => {
    const f = join(MODEL_DIR, `${m}.onnx`);
    return !existsSync(f) || statSync(f).mtimeMs < statSync(SCRIPT).mtimeMs;
  });
  if (!stale) return MODEL_DIR;
  try {
    python(['-c', 'import onnx']);
  } catch {
    log(`ort: pip install onnx==${ONNX_VERSION} into ${PY_DIR}`);
    execFileSync('python3', ['-m', 'pip', 'install', '--quiet', '--target', PY_DIR, `onnx==${ONNX_VERSION}`],
      {stdio: 'inherit'});
  }
  python([SCRIPT, MODEL_DIR]);
  return MODEL_DIR;
}
