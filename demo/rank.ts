/**
 * One data-parallel rank of the demo (a worker thread): joins the thread group, builds the
 * converted SyncBatchNorm model, trains it on its shard with gradients averaged over the ranks,
 * and reports progress, losses, accuracy and its batch statistics to the main thread.
 */
import {parentPort, workerData} from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import {collective, layers as normLayers, syncBatchNorm} from '../src/index.js';
import {folderSaveHandler} from '../src/cli/model_files.js';
import {bestBackend} from './backend.js';
import {accuracy, makeData, tensors} from './data.js';

interface Job {
  handle: collective.ThreadGroupHandle;
  rank: number;
  backend: string;
  artifacts: tf.io.ModelArtifacts;
  epochs: number;
  batchSize: number;
  trainSize: number;
  saveDir: string;
}

async function main() {
  const job = workerData as Job;
  const backend = await bestBackend();
  if (backend !== job.backend) throw new Error(`rank ${job.rank} got backend ${backend}, main has ${job.backend}`);
  const group = collective.init(collective.joinThreadGroup(job.handle, job.rank));
  const world = group.worldSize;
  const model = await tf.loadLayersModel(tf.io.fromMemory(job.artifacts));
  model.compile({optimizer: collective.distributedOptimizer(tf.train.adam(0.01)), loss: 'categoricalCrossentropy',
    metrics: ['accuracy']});

  // This rank's shard of the same training set the single-process run used.
  const train = makeData(job.trainSize, 1);
  const shard = job.trainSize / world;
  const {x, y} = tensors(tf, train, job.rank * shard, shard);
  const batches = Math.ceil(shard / job.batchSize);
  const post = (m: object) => parentPort!.postMessage({rank: job.rank, ...m});
  const history = await model.fit(x, y, {
    epochs: job.epochs, batchSize: job.batchSize, shuffle: false, verbose: 0,
    callbacks: {
      onEpochBegin: async (epoch) => post({type: 'epoch', epoch, batches}),
      onBatchEnd: async (batch, logs) => post({type: 'batch', batch, loss: logs?.loss}),
      onEpochEnd: async (epoch, logs) => post({type: 'epochEnd', epoch, loss: logs?.loss, acc: logs?.acc}),
    },
  });

  // The ranks' batch statistics: the same global batch seen from each rank's half.
  const probe = tensors(tf, train, job.rank * 16, 16);
  const firstSync = model.layers.find((l) => l instanceof normLayers.SyncBatchNormalization)!;
  const h = tf.tidy(() => (model.layers[0].apply(probe.x) as tf.Tensor));
  const stats = tf.tidy(() => syncBatchNorm(h, {}));
  const moving = firstSync.getWeights()[2];
  const test = makeData(512, 2);
  const acc = accuracy(tf, model, test);
  if (job.rank === 0) await model.save(folderSaveHandler(job.saveDir));
  post({type: 'done', losses: history.history.loss, acc, batchMean: Array.from(stats.mean.dataSync()),
    batchCount: stats.count, movingMean: Array.from(moving.dataSync())});
  group.destroy();
}

main().catch((e) => {
  parentPort!.postMessage({rank: (workerData as Job).rank, type: 'error', error: String(e?.stack ?? e)});
});
