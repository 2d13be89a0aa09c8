// Save/load round trips of a model holding every layer of tfjs-norms, on the tensorflow
// backend, in a plain Node process: under jest, tfjs-node's typed arrays come from another
// realm than the test's, and tfjs' weight encoding (an `instanceof Float32Array` check) rejects
// them. Trains the model, saves it in memory (tf.io.withSaveHandler), to a folder with
// tfjs-node's file:// handler and with the CLI's folderSaveHandler (src/cli/model_files.ts), loads each back and
// prints one JSON line with what the test (test/tensorflow/layers.test.ts) compares.
process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
const tf = require('@tensorflow/tfjs-node');
const norms = require('../../../dist/cjs/src/index.js');
require('../../../dist/cjs/src/node.js');   // the tensorflow kernels
const {folderSaveHandler} = require('../../../dist/cjs/src/cli/model_files.js');
const {mkdtempSync, readdirSync, rmSync} = require('node:fs');
const {tmpdir} = require('node:os');
const {join} = require('node:path');

const values = (ts) => (Array.isArray(ts) ? ts : [ts]).map((t) => Array.from(t.dataSync()));

/** Every layer of ours in one model (each keeps the shape [4, 4, 6]). */
function everyLayer() {
  const l = norms.layers;
  return tf.sequential({layers: [
    tf.layers.conv2d({inputShape: [4, 4, 3], filters: 6, kernelSize: 3, padding: 'same',
      kernelInitializer: tf.initializers.glorotNormal({seed: 3})}),
    l.batchNormalization({momentum: 0.5, activation: 'relu'}),
    l.syncBatchNormalization({momentum: null, unbiasedMovingVariance: true}),
    l.layerNormalization({axis: [-2, -1]}),
    l.groupNormalization({groups: 3}),
    l.instanceNormalization({center: false}),
    l.inPlaceABN({activation: 'elu', momentum: 0.8}),
    tf.layers.flatten(),
    tf.layers.dense({units: 2, kernelInitializer: tf.initializers.glorotNormal({seed: 4})}),
  ]});
}

async function train(model, x, y) {
  const optimizer = tf.train.sgd(0.05);
  model.compile({optimizer, loss: 'meanSquaredError'});
  const h = await model.fit(x, y, {epochs: 2, batchSize: 4, verbose: 0, shuffle: false});
  optimizer.dispose();
  return h.history.loss;
}

async function main() {
  await tf.setBackend('tensorflow');
  if (tf.getBackend() !== 'tensorflow') throw new Error(`backend is ${tf.getBackend()}, not tensorflow`);
  const x = tf.randomNormal([8, 4, 4, 3], 1, 2, 'float32', 5);
  const y = tf.ones([8, 2]);
  const model = everyLayer();
  const losses = await train(model, x, y);
  const out = {
    backend: tf.getBackend(), losses, predictions: tf.tidy(() => values(model.predict(x))),
    configs: model.layers.map((l) => l.getConfig()), weights: values(model.getWeights()), loaded: {},
  };

  let artifacts;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  out.topology = JSON.stringify(artifacts.modelTopology);
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-norms-tf-'));
  try {
    await model.save(`file://${join(dir, 'node')}`);
    await model.save(folderSaveHandler(join(dir, 'norms')));
    out.files = {node: readdirSync(join(dir, 'node')).sort(), norms: readdirSync(join(dir, 'norms')).sort()};
    const sources = {
      memory: tf.io.fromMemory(artifacts),
      file: `file://${join(dir, 'node', 'model.json')}`,
      folderSaveHandler: `file://${join(dir, 'norms', 'model.json')}`,
    };
    for (const [name, source] of Object.entries(sources)) {
      const loaded = await tf.loadLayersModel(source);
      const entry = {
        predictions: tf.tidy(() => values(loaded.predict(x))), configs: loaded.layers.map((l) => l.getConfig()),
        weights: values(loaded.getWeights()),
      };
      // The loaded model trains on: the layers' state came back complete.
      entry.lossesAfter = await train(loaded, x, y);
      out.loaded[name] = entry;
      loaded.dispose();
    }
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
  model.dispose();
  tf.dispose([x, y]);
  out.tensors = tf.memory().numTensors;
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
