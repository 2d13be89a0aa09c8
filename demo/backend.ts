/**
 * Picks the best backend this machine has: tensorflow (tfjs-node) when it loads, else cpu.
 * `TFJS_NORMS_DEMO_BACKEND=cpu` forces cpu.
 */
import * as tf from '@tensorflow/tfjs';

export async function bestBackend(): Promise<string> {
  const forced = process.env.TFJS_NORMS_DEMO_BACKEND;
  if (forced === 'cpu') {
    await tf.setBackend('cpu');
    return 'cpu';
  }
  try {
    await import('@tensorflow/tfjs-node');
    await import('../src/node.js');
    if (await tf.setBackend('tensorflow')) return 'tensorflow';
  } catch {
    // tfjs-node is not installed or its addon does not load here.
  }
  await tf.setBackend('cpu');
  return 'cpu';
}
