/**
 * `npm run demo`: trains a small conv net whose normalization is tfjs-norms' batchNorm (fused
 * with relu), on a generated dataset of striped 12×12 images (horizontal, vertical or
 * diagonal stripes under noise), then evaluates it in inference mode with the moving
 * statistics, on the cpu backend.
 */
import * as tf from '@tensorflow/tfjs';
import {batchNorm} from '../src/index.js';

const SIZE = 12;
const CLASSES = 3;

/** Images [n, 12, 12, 1] of stripes in one of three directions, with random phase and noise. */
function makeData(n: number, seed: number): {x: tf.Tensor4D; y: tf.Tensor2D; labels: Int32Array} {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const data = new Float32Array(n * SIZE * SIZE);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = Math.floor(rand() * CLASSES);
    const phase = rand() * 2 * Math.PI;
    const freq = 0.8 + rand() * 0.6;
    labels[i] = label;
    for (let r = 0; r < SIZE; r++) {
      for (let c = 0; c < SIZE; c++) {
        const t = label === 0 ? r : label === 1 ? c : (r + c) / Math.SQRT2;
        data[(i * SIZE + r) * SIZE + c] = 3 + Math.sin(freq * t + phase) + (rand() - 0.5) * 1.2;
      }
    }
  }
  return {x: tf.tensor4d(data, [n, SIZE, SIZE, 1]), y: tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES) as tf.Tensor2D, labels};
}

const init = (shape: number[], fanIn: number) => tf.variable(tf.randomNormal(shape, 0, Math.sqrt(2 / fanIn), 'float32', 17));
const params = {
  k1: init([3, 3, 1, 8], 9), g1: tf.variable(tf.ones([8])), b1: tf.variable(tf.zeros([8])),
  k2: init([3, 3, 8, 16], 72), g2: tf.variable(tf.ones([16])), b2: tf.variable(tf.zeros([16])),
  w: init([16, CLASSES], 16), wb: tf.variable(tf.zeros([CLASSES])),
};
const moving = [8, 16].map((c) => ({mean: tf.variable(tf.zeros([c]), false), variance: tf.variable(tf.ones([c]), false)}));
const MOMENTUM = 0.9;

function forward(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
  let h: tf.Tensor4D = x;
  const blocks = [[params.k1, params.g1, params.b1], [params.k2, params.g2, params.b2]] as const;
  blocks.forEach(([k, gamma, beta], i) => {
    h = tf.conv2d(h, k as tf.Tensor4D, 1, 'same');
    const m = moving[i];
    const r = training
      ? batchNorm(h, {training: true, gamma, beta, activation: 'relu'})
      : batchNorm(h, {training: false, gamma, beta, activation: 'relu', mean: m.mean, variance: m.variance});
    if (training) {
      // Keras convention: moving = momentum * moving + (1 - momentum) * batch.
      m.mean.assign(tf.add(tf.mul(m.mean, MOMENTUM), tf.mul(r.mean, 1 - MOMENTUM)));
      m.variance.assign(tf.add(tf.mul(m.variance, MOMENTUM), tf.mul(r.variance, 1 - MOMENTUM)));
    }
    h = r.y as tf.Tensor4D;
    if (i === 0) h = tf.maxPool(h, 2, 2, 'valid');
  });
  const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
  return tf.add(tf.matMul(pooled, params.w), params.wb);
}

function accuracy(logits: tf.Tensor2D, labels: Int32Array): number {
  const pred = tf.tidy(() => tf.argMax(logits, 1).dataSync());
  let ok = 0;
  labels.forEach((l, i) => { if (pred[i] === l) ok++; });
  return ok / labels.length;
}

async function main() {
  await tf.setBackend('cpu');
  const train = makeData(512, 1);
  const test = makeData(256, 2);
  const optimizer = tf.train.adam(0.01);
  const batch = 64;
  const epochs = 4;
  console.log(`tfjs-norms demo: conv net with fused batchNorm+relu, ${train.labels.length} training images, backend ${tf.getBackend()}`);
  for (let epoch = 1; epoch <= epochs; epoch++) {
    let total = 0;
    const t0 = performance.now();
    for (let start = 0; start < train.labels.length; start += batch) {
      const loss = optimizer.minimize(() => tf.tidy(() => {
        const xb = tf.slice(train.x, [start, 0, 0, 0], [batch, -1, -1, -1]) as tf.Tensor4D;
        const yb = tf.slice(train.y, [start, 0], [batch, -1]);
        return tf.losses.softmaxCrossEntropy(yb, forward(xb, true)) as tf.Scalar;
      }), true)!;
      total += loss.dataSync()[0];
      loss.dispose();
    }
    const acc = tf.tidy(() => accuracy(forward(test.x, false), test.labels));
    console.log(`epoch ${epoch}/${epochs}  loss ${(total / (train.labels.length / batch)).toFixed(4)}  ` +
                `test accuracy ${(acc * 100).toFixed(1)}%  (${(performance.now() - t0).toFixed(0)} ms)`);
  }
  console.log(`moving mean of block 1 (first 4 channels): ${Array.from(moving[0].mean.dataSync().slice(0, 4)).map((v) => v.toFixed(3)).join(', ')}`);
  console.log(`tensors alive at the end: ${tf.memory().numTensors}`);
}

main().catch((e) => { console.error(e); process.exit(1); });
