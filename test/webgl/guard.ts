/**
 * In-page helpers of the webgl suites: run a check, catching errors, and
 * count the tensors and GPU bytes it left behind.
 */
import * as tf from '@tensorflow/tfjs';

export interface CheckResult {
  /** Mismatches (empty when the check passes). */
  bad: string[];
  /** numTensors and numBytesInGPU after the check minus before (both must be 0). */
  leakedTensors: number;
  leakedBytes: number;
  error?: string;
}

export function gpuBytes(): number {
  return (tf.memory() as unknown as {numBytesInGPU: number}).numBytesInGPU;
}

/** Counts tensors and GPU bytes from now; the returned function gives what was left behind. */
function leakCounter(): () => {leakedTensors: number; leakedBytes: number} {
  const t0 = tf.memory().numTensors;
  const b0 = gpuBytes();
  return () => ({leakedTensors: tf.memory().numTensors - t0, leakedBytes: gpuBytes() - b0});
}

const describe = (e: unknown) => (e as Error).stack ?? String(e);

/** Runs `f` (which creates and disposes its own inputs) and reports what it left behind. */
export async function guarded(f: () => string[] | Promise<string[]>): Promise<CheckResult> {
  const left = leakCounter();
  try {
    const bad = await f();
    return {bad, ...left()};
  } catch (e) {
    return {bad: [], ...left(), error: describe(e)};
  }
}

/** `guarded` for synchronous checks. */
export function guardedSync(f: () => string[]): CheckResult {
  const left = leakCounter();
  try {
    const bad = f();
    return {bad, ...left()};
  } catch (e) {
    return {bad: [], ...left(), error: describe(e)};
  }
}

/** Starts the webgl backend; the suites fail if it is not webgl 2 with float32 textures. */
export async function startWebgl(): Promise<{backend: string; webglVersion: number; float32Enabled: boolean}> {
  await tf.setBackend('webgl');
  await tf.ready();
  return {
    backend: tf.getBackend(),
    webglVersion: tf.env().getNumber('WEBGL_VERSION'),
    float32Enabled: tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED'),
  };
}
