/**
 * Starts tfjs-backend-webgpu in a page and says precisely what is missing when it cannot: the
 * suites fail with that message, never skip. Shared by the webgpu test pages, the sync workers
 * and the benchmarks.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';

export interface GpuEnv {
  backend: string;
  vendor: string;
  architecture: string;
}

interface GpuDevice {
  pushErrorScope(filter: 'validation' | 'internal' | 'out-of-memory'): void;
  popErrorScope(): Promise<{message: string} | null>;
}

export async function startWebgpu(): Promise<GpuEnv> {
  const gpu = (navigator as unknown as {gpu?: {requestAdapter(): Promise<unknown>}}).gpu;
  if (gpu === undefined) {
    throw new Error('navigator.gpu is missing: start Chromium with --enable-unsafe-webgpu (bench/browser/driver.ts WEBGPU_ARGS)');
  }
  const adapter = await gpu.requestAdapter() as {info?: {vendor: string; architecture: string}} | null;
  if (adapter === null) {
    throw new Error('no WebGPU adapter: start Chromium with --use-webgpu-adapter=swiftshader ' +
      '(Debian package chromium, scripts/setup-debian.sh)');
  }
  if (!(await tf.setBackend('webgpu')) || tf.getBackend() !== 'webgpu') {
    throw new Error(`@tensorflow/tfjs-backend-webgpu did not start (active backend: ${tf.getBackend()})`);
  }
  await tf.ready();
  return {backend: tf.getBackend(), vendor: adapter.info?.vendor ?? '', architecture: adapter.info?.architecture ?? ''};
}

function device(): GpuDevice {
  return (tf.backend() as unknown as {device: GpuDevice}).device;
}

/**
 * Runs `f` (which must not throw) inside WebGPU validation and internal error scopes: an invalid
 * WGSL program does not throw (it warns and leaves stale output), so the scopes' errors are
 * returned for the check to fail on.
 */
export async function withGpuErrors<R>(f: () => R | Promise<R>): Promise<{value: R; gpuErrors: string[]}> {
  const d = device();
  d.pushErrorScope('validation');
  d.pushErrorScope('internal');
  const value = await f();
  const internal = await d.popErrorScope();
  const validation = await d.popErrorScope();
  return {value, gpuErrors: [validation, internal].filter((e) => e !== null).map((e) => e!.message)};
}
