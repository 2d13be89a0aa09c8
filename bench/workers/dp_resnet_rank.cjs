// Bench rank (process; RANK/WORLD_SIZE/MASTER_* set, or none for one rank): data-parallel
// training steps of a ResNet-style model (~6 M parameters: residual conv blocks on 16×16×3
// images, then a dense head) on the tfjs-node `tensorflow` backend, gradients averaged by
// distributedOptimizer. argv[2] steps, argv[3] images per rank. Rank 0 prints the median step
// ms and the parameter count.
const tf = require('@tensorflow/tfjs-node');
const norms = require('../../dist/cjs/src/index.js');

const steps = Number(process.argv[2] || 5), batch = Number(process.argv[3] || 16);
const group = norms.collective.initFromEnv();

function block(x, filters, stride) {
  const conv = (f, s) => tf.layers.conv2d({filters: f, kernelSize: 3, strides: s, padding: 'same', useBias: false});
  let h = tf.layers.reLU().apply(tf.layers.batchNormalization().apply(conv(filters, stride).apply(x)));
  h = tf.layers.batchNormalization().apply(conv(filters, 1).apply(h));
  const skip = stride === 1 && x.shape[3] === filters ? x
    : tf.layers.conv2d({filters, kernelSize: 1, strides: stride, useBias: false}).apply(x);
  return tf.layers.reLU().apply(tf.layers.add().apply([h, skip]));
}

const input = tf.input({shape: [16, 16, 3]});
let h = tf.layers.conv2d({filters: 64, kernelSize: 3, padding: 'same'}).apply(input);
h = block(h, 64, 1);
h = block(h, 128, 2);
h = block(h, 128, 1);
h = tf.layers.flatten().apply(h);
h = tf.layers.dense({units: 640, activation: 'relu'}).apply(h);
const model = tf.model({inputs: input, outputs: tf.layers.dense({units: 10}).apply(h)});
norms.collective.broadcastVariables(model.weights, {group});
model.compile({optimizer: norms.collective.distributedOptimizer(tf.train.sgd(0.01), {group}),
               loss: tf.losses.softmaxCrossEntropy});
const x = tf.randomNormal([batch, 16, 16, 3], 0, 1, 'float32', 1 + group.rank);
const y = tf.oneHot(tf.tensor1d(Array.from({length: batch}, (_, i) => (i + group.rank) % 10), 'int32'), 10);
const times = [];
(async () => {
  for (let i = 0; i <= steps; i++) {
    const t0 = process.hrtime.bigint();
    await model.trainOnBatch(x, y);
    if (i > 0) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  if (group.rank === 0) console.log(JSON.stringify({ms: times[times.length >> 1], params: model.countParams()}));
  group.destroy();
})();
