/** The demo's dataset, generated: 16×16 images of stripes in one of four directions, under noise. */
import type * as tfType from '@tensorflow/tfjs';

export const SIZE = 16;
export const CLASSES = 4;

export interface Data {x: Float32Array; labels: Int32Array; n: number}

export function makeData(n: number, seed: number): Data {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const x = new Float32Array(n * SIZE * SIZE);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = Math.floor(rand() * CLASSES);
    const phase = rand() * 2 * Math.PI;
    const freq = 0.7 + rand() * 0.8;
    labels[i] = label;
    for (let r = 0; r < SIZE; r++) {
      for (let c = 0; c < SIZE; c++) {
        const t = [r, c, (r + c) / Math.SQRT2, (r - c) / Math.SQRT2][label];
        x[(i * SIZE + r) * SIZE + c] = 2 + Math.sin(freq * t + phase) + (rand() - 0.5) * 1.6;
      }
    }
  }
  return {x, labels, n};
}

export function tensors(tf: typeof tfType, d: Data, start = 0, count = d.n) {
  return tf.tidy(() => ({
    x: tf.tensor4d(d.x.subarray(start * SIZE * SIZE, (start + count) * SIZE * SIZE), [count, SIZE, SIZE, 1]),
    y: tf.oneHot(tf.tensor1d(d.labels.subarray(start, start + count), 'int32'), CLASSES),
  }));
}

export function accuracy(tf: typeof tfType, model: tfType.LayersModel, d: Data): number {
  return tf.tidy(() => {
    const {x} = tensors(tf, d);
    const pred = tf.argMax(model.predict(x) as tfType.Tensor, 1).dataSync();
    let ok = 0;
    d.labels.forEach((l, i) => { if (pred[i] === l) ok++; });
    return ok / d.n;
  });
}
