/**
 * `npm run demo`, the main job: trains a small conv net on a generated dataset, first in one
 * process with tfjs-layers' BatchNormalization, then converted to SyncBatchNormalization and
 * trained data-parallel on two worker threads (statistics synchronized, gradients averaged).
 * Prints accuracies, shows that the ranks' batch statistics agree, and saves the model and a
 * loss-curve image under demo-output/.
 */
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {Worker} from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import {Resvg} from '@resvg/resvg-js';
import cliProgress from 'cli-progress';
import {collective, convert} from '../src/index.js';
import {bestBackend} from './backend.js';
import {accuracy, CLASSES, makeData, SIZE, tensors} from './data.js';

const EPOCHS = 4;
const BATCH = 32;
const WORLD = 2;
// The cpu backend's conv2d is slow: a smaller training set keeps the demo well under 3 minutes.
let TRAIN = 1024;
const OUT = 'demo-output';

function buildModel(): tf.LayersModel {
  return tf.sequential({layers: [
    tf.layers.conv2d({inputShape: [SIZE, SIZE, 1], filters: 8, kernelSize: 3, padding: 'same', useBias: false,
      kernelInitializer: tf.initializers.heNormal({seed: 1})}),
    tf.layers.batchNormalization({momentum: 0.9}),
    tf.layers.activation({activation: 'relu'}),
    tf.layers.maxPooling2d({poolSize: 2}),
    tf.layers.conv2d({filters: 16, kernelSize: 3, padding: 'same', useBias: false,
      kernelInitializer: tf.initializers.heNormal({seed: 2})}),
    tf.layers.batchNormalization({momentum: 0.9}),
    tf.layers.activation({activation: 'relu'}),
    tf.layers.globalAveragePooling2d({}),
    tf.layers.dense({units: CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotNormal({seed: 3})}),
  ]});
}

const bars = new cliProgress.MultiBar({
  format: '{label} |{bar}| {value}/{total} batches | loss {loss}',
  hideCursor: true, clearOnComplete: false, noTTYOutput: true, notTTYSchedule: 2000,
}, cliProgress.Presets.shades_classic);

async function singleProcess(train: ReturnType<typeof makeData>, model: tf.LayersModel): Promise<{losses: number[]}> {
  model.compile({optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy'});
  const {x, y} = tensors(tf, train);
  const batches = Math.ceil(TRAIN / BATCH);
  let bar: cliProgress.SingleBar;
  const h = await model.fit(x, y, {
    epochs: EPOCHS, batchSize: BATCH, shuffle: false, verbose: 0,
    callbacks: {
      onEpochBegin: async (e) => { bar = bars.create(batches, 0, {label: `epoch ${e + 1}/${EPOCHS}        `, loss: '-'}); },
      onBatchEnd: async (_b, logs) => { bar.increment(1, {loss: logs!.loss.toFixed(4)}); },
      onEpochEnd: async () => { bar.stop(); },
    },
  });
  tf.dispose([x, y]);
  return {losses: h.history.loss as number[]};
}

interface RankDone {losses: number[]; acc: number; batchMean: number[]; batchCount: number; movingMean: number[]}

async function dataParallel(model: tf.LayersModel, backend: string): Promise<RankDone[]> {
  const sync = await convert.toSyncBatchNorm(model);
  let artifacts: tf.io.ModelArtifacts | undefined;
  await sync.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return {modelArtifactsInfo: {dateSaved: new Date(), modelTopologyType: 'JSON'}};
  }));
  console.log(`converted: ${sync.layers.map((l) => l.getClassName()).filter((n) => /Norm/.test(n)).join(', ')}`);
  const handle = collective.createThreadGroup(WORLD, {timeoutMs: 120000});
  // Each rank takes BATCH / WORLD images per step: the synchronized batch is as large as the
  // single-process one, so both runs take the same steps.
  const perRank = BATCH / WORLD;
  const batches = Math.ceil(TRAIN / WORLD / perRank);
  return Promise.all(Array.from({length: WORLD}, (_, rank) => new Promise<RankDone>((resolve, reject) => {
    const worker = new Worker(new URL('./rank_bootstrap.mjs', import.meta.url), {
      workerData: {handle, rank, backend, artifacts, epochs: EPOCHS, batchSize: perRank, trainSize: TRAIN,
        saveDir: join(OUT, 'model')},
    });
    let bar: cliProgress.SingleBar | null = null;
    worker.on('message', (m) => {
      if (m.type === 'epoch') bar = bars.create(batches, 0, {label: `epoch ${m.epoch + 1}/${EPOCHS} rank ${rank} `, loss: '-'});
      else if (m.type === 'batch') bar?.increment(1, {loss: Number(m.loss).toFixed(4)});
      else if (m.type === 'epochEnd') bar?.stop();
      else if (m.type === 'done') { resolve(m as RankDone); void worker.terminate(); }
      else if (m.type === 'error') reject(new Error(`rank ${rank}: ${m.error}`));
    });
    worker.on('error', reject);
  })));
}

/** The loss curves of both runs as an SVG chart, rendered to PNG. */
function lossCurve(single: number[], parallel: number[][]): Buffer {
  const W = 640, H = 400, L = 60, R = 20, T = 40, B = 50;
  const all = [...single, ...parallel.flat()];
  const max = Math.max(...all) * 1.05;
  const px = (i: number) => L + (i / (EPOCHS - 1)) * (W - L - R);
  const py = (v: number) => T + (1 - v / max) * (H - T - B);
  const line = (ys: number[], color: string, dash = '') =>
    `<polyline fill="none" stroke="${color}" stroke-width="2.5" ${dash ? `stroke-dasharray="${dash}"` : ''} ` +
    `points="${ys.map((v, i) => `${px(i).toFixed(1)},${py(v).toFixed(1)}`).join(' ')}"/>`;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = max * f;
    return `<line x1="${L}" x2="${W - R}" y1="${py(v)}" y2="${py(v)}" stroke="#ddd"/>` +
      `<text x="${L - 8}" y="${py(v) + 4}" text-anchor="end" font-size="12">${v.toFixed(2)}</text>`;
  }).join('');
  const xt = Array.from({length: EPOCHS}, (_, i) =>
    `<text x="${px(i)}" y="${H - B + 18}" text-anchor="middle" font-size="12">${i + 1}</text>`).join('');
  const colors = ['#d62728', '#2ca02c'];
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans">
    <rect width="100%" height="100%" fill="white"/>
    <text x="${W / 2}" y="24" text-anchor="middle" font-size="16">tfjs-norms demo: training loss per epoch</text>
    ${ticks}${xt}
    <text x="${W / 2}" y="${H - 10}" text-anchor="middle" font-size="13">epoch</text>
    ${line(single, '#1f77b4')}
    ${parallel.map((ls, r) => line(ls, colors[r % 2], '6,4')).join('')}
    <rect x="${W - R - 250}" y="${T + 6}" width="245" height="${22 + 18 * parallel.length}" fill="white" stroke="#ccc"/>
    <line x1="${W - R - 240}" x2="${W - R - 215}" y1="${T + 20}" y2="${T + 20}" stroke="#1f77b4" stroke-width="2.5"/>
    <text x="${W - R - 208}" y="${T + 24}" font-size="12">BatchNormalization, 1 process</text>
    ${parallel.map((_, r) => `<line x1="${W - R - 240}" x2="${W - R - 215}" y1="${T + 38 + 18 * r}" y2="${T + 38 + 18 * r}"
      stroke="${colors[r % 2]}" stroke-width="2.5" stroke-dasharray="6,4"/>
      <text x="${W - R - 208}" y="${T + 42 + 18 * r}" font-size="12">SyncBatchNorm, rank ${r} of ${WORLD}</text>`).join('')}
  </svg>`;
  return new Resvg(svg, {font: {loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans'}}).render().asPng();
}

async function main() {
  const t0 = performance.now();
  const backend = await bestBackend();
  if (backend === 'cpu') TRAIN = 512;
  const train = makeData(TRAIN, 1);
  const test = makeData(512, 2);
  console.log(`tfjs-norms demo on the ${backend} backend: ${TRAIN} training and ${test.n} test images of ` +
              `${SIZE}×${SIZE} stripes in ${CLASSES} directions\n`);

  // Both runs start from the same initial weights.
  const model = buildModel();
  const initial = model.getWeights().map((w) => w.clone());
  console.log('1. tfjs-layers BatchNormalization, one process');
  const single = await singleProcess(train, model);
  const acc1 = accuracy(tf, model, test);
  console.log(`   test accuracy ${(acc1 * 100).toFixed(1)}%\n`);

  console.log(`2. the same model converted to SyncBatchNormalization (convert.toSyncBatchNorm), from the same ` +
              `initial weights, data-parallel on ${WORLD} worker threads (${TRAIN / WORLD} images each, ${BATCH / WORLD} per step)`);
  const fresh = buildModel();
  fresh.setWeights(initial);
  const ranks = await dataParallel(fresh, backend);
  bars.stop();
  ranks.forEach((r, i) => console.log(`   rank ${i}: test accuracy ${(r.acc * 100).toFixed(1)}%`));
  const diff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
  console.log(`   batch statistics of one synchronized batch (${ranks[0].batchCount} values per channel, ` +
              `16 images from each rank), first channels:`);
  ranks.forEach((r, i) => console.log(`     rank ${i}: mean [${r.batchMean.slice(0, 4).map((v) => v.toFixed(5)).join(', ')}, …]`));
  console.log(`   ranks agree: max |difference| of batch means ${diff(ranks[0].batchMean, ranks[1].batchMean)}, ` +
              `of moving means ${diff(ranks[0].movingMean, ranks[1].movingMean)}`);

  mkdirSync(OUT, {recursive: true});
  writeFileSync(join(OUT, 'loss.png'), lossCurve(single.losses, ranks.map((r) => r.losses)));
  console.log(`\nsaved ${join(OUT, 'model', 'model.json')} (SyncBatchNormalization model of rank 0) and ${join(OUT, 'loss.png')}`);
  console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (acc1 < 0.5 || ranks.some((r) => r.acc < 0.5) || diff(ranks[0].batchMean, ranks[1].batchMean) !== 0) {
    throw new Error('the demo did not learn, or the ranks disagree');
  }
}

main().catch((e) => {
  bars.stop();
  console.error(e);
  process.exit(1);
});
