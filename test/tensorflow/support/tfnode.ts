/**
 * Loads `@tensorflow/tfjs-node` for the tensorflow suites (TensorFlow's INFO logs off) and the
 * tensorflow kernels of tfjs-norms. Import it first. A suite fails, never skips, when tfjs-node
 * cannot load: run `npx tfjs-norms setup-node` (npm test does, through scripts/setup.sh).
 */
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const tf = require('@tensorflow/tfjs-node') as typeof import('@tensorflow/tfjs-node');
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('../../../src/node.js');

export {tf};

/** Makes `tensorflow` the active backend and checks it is tfjs-node's. */
export async function useTensorflow(): Promise<void> {
  await tf.setBackend('tensorflow');
  if (tf.getBackend() !== 'tensorflow') throw new Error(`backend is ${tf.getBackend()}, not tensorflow`);
}

/** Live TensorFlow tensor handles of the tfjs-node binding (tfjs' count misses raw handles). */
export function tfHandles(): number {
  return (tf.engine().findBackend('tensorflow') as unknown as {getNumOfTFTensors(): number}).getNumOfTFTensors();
}

/**
 * Gives tensors whose values still live in JavaScript (tfjs-node keeps `tf.tensor`/`randomNormal`
 * results as host values until a TensorFlow op first reads them) their TensorFlow handle now,
 * exactly as the first op would (`getInputTensorIds`), so that a handle count taken afterwards
 * does not see that one-time, tensor-owned handle as a leak. The handle is deleted with the tensor.
 */
export function materialize(...tensors: Array<import('@tensorflow/tfjs-core').Tensor>): void {
  (tf.engine().findBackend('tensorflow') as unknown as {getInputTensorIds(t: unknown[]): number[]})
    .getInputTensorIds(tensors);
}
