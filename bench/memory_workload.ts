/**
 * The memory benchmark's workload, shared by the cpu run (bench/sections/memory.ts) and the webgl
 * page (bench/browser/memory_page.ts): one training step of a stack of conv + norm + activation
 * blocks, with a dense head and a softmax cross-entropy loss, and the probes that measure its peak
 * memory.
 *
 * What a tfjs training step holds: the forward pass runs in one `tidy`, so its intermediates are
 * disposed when it ends, except the clones the tape saves for the gradients; those, and every
 * gradient computed in the backward pass, stay alive until the backward pass ends. The step's
 * peak is therefore at the end of the backward pass. In-Place ABN lowers it by saving only `y`
 * (one fused kernel, so one gradient per block); `inPlace: true` frees `x` as soon as `y` exists,
 * which lowers the forward pass's peak (see `forwardPeak`).
 */
import type * as tfType from '@tensorflow/tfjs';
import type * as normsType from '../src/index.js';

type TF = typeof tfType;
type Norms = typeof normsType;
type T = tfType.Tensor;

export interface MemoryShape {
  batch: number;
  size: number;
  channels: number;
  blocks: number;
  kernel: number;
}

/** A training step of one variant; `step` resolves once the step's results are computed. */
export interface StepWorkload {
  label: string;
  step: () => Promise<void>;
  dispose: () => void;
}

export const FUNCTIONAL = ['tfjs-layers BN + LeakyReLU', 'tfjs-norms batchNorm (fused leakyRelu)',
  'inplaceABN', 'inplaceABN inPlace'] as const;
export const LAYERED = ['tfjs-layers BN + LeakyReLU', 'InPlaceABN'] as const;
export type FunctionalVariant = typeof FUNCTIONAL[number];
export type LayerVariant = typeof LAYERED[number];

const EPSILON = 1e-3;
const ALPHA = 0.01;

function data(tf: TF, s: MemoryShape): {x: T; labels: T} {
  const x = tf.randomNormal([s.batch, s.size, s.size, s.channels], 0, 1, 'float32', 1);
  const labels = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({length: s.batch}, (_, i) => i % 10), 'int32'), 10));
  return {x, labels};
}

/**
 * (a) The functional op: a model written with tf ops, stepped by `optimizer.minimize`. The
 * baseline applies tfjs-layers' BatchNormalization and LeakyReLU layers functionally, as a tfjs
 * user writing functional code would (they run `tf.moments` + `tf.batchNorm` + `tf.leakyRelu`).
 * `sync` waits for the backend (reads the loss back).
 */
export function functionalStep(tf: TF, norms: Norms, variant: FunctionalVariant, s: MemoryShape,
                               sync: (t: T) => void): StepWorkload {
  const {x, labels} = data(tf, s);
  const C = s.channels;
  const conv = Array.from({length: s.blocks}, (_, i) =>
    tf.variable(tf.randomNormal([s.kernel, s.kernel, C, C], 0, Math.sqrt(2 / (s.kernel * s.kernel * C)), 'float32', 10 + i)));
  const gamma = Array.from({length: s.blocks}, () => tf.variable(tf.ones([C])));
  const beta = Array.from({length: s.blocks}, () => tf.variable(tf.zeros([C])));
  const head = tf.variable(tf.randomNormal([s.size * s.size * C, 10], 0, 0.01, 'float32', 99));
  const layered = variant === 'tfjs-layers BN + LeakyReLU';
  const bn = layered ? Array.from({length: s.blocks}, () => tf.layers.batchNormalization({epsilon: EPSILON})) : [];
  const act = tf.layers.leakyReLU({alpha: ALPHA});
  const norm = (c: T, i: number): T => {
    switch (variant) {
      case 'tfjs-layers BN + LeakyReLU':
        return act.apply(bn[i].apply(c, {training: true}) as T) as T;
      case 'tfjs-norms batchNorm (fused leakyRelu)':
        return norms.batchNorm(c, {training: true, gamma: gamma[i], beta: beta[i], epsilon: EPSILON,
          activation: 'leakyRelu', alpha: ALPHA}).y;
      case 'inplaceABN':
      case 'inplaceABN inPlace': {
        const r = norms.inplaceABN(c, {training: true, gamma: gamma[i], beta: beta[i], epsilon: EPSILON,
          alpha: ALPHA, inPlace: variant === 'inplaceABN inPlace'});
        r.mean.dispose();
        r.variance.dispose();
        return r.y;
      }
    }
  };
  const loss = (): tfType.Scalar => {
    let h = x;
    for (let i = 0; i < s.blocks; i++) h = norm(tf.conv2d(h as tfType.Tensor4D, conv[i] as tfType.Variable<tfType.Rank.R4>, 1, 'same'), i);
    return tf.losses.softmaxCrossEntropy(labels, tf.matMul(tf.reshape(h, [s.batch, -1]), head));
  };
  // Build the layers once so that their weights exist before the first step.
  if (layered) tf.tidy(() => { loss(); });
  const optimizer = tf.train.sgd(0.01);
  return {
    label: variant,
    step: async () => {
      const cost = optimizer.minimize(loss, true)!;
      sync(cost);
      cost.dispose();
    },
    dispose: () => {
      tf.dispose([x, labels, ...conv, ...gamma, ...beta, head]);
      for (const l of bn) l.dispose();
      optimizer.dispose();
    },
  };
}

/**
 * (b) The layer inside `model.fit`: a tf.sequential of conv2d (no bias) + norm blocks, a dense
 * softmax head, categorical cross-entropy; one batch per step.
 */
export function layerStep(tf: TF, norms: Norms, variant: LayerVariant, s: MemoryShape): StepWorkload {
  const {x, labels} = data(tf, s);
  const model = tf.sequential();
  for (let i = 0; i < s.blocks; i++) {
    model.add(tf.layers.conv2d({
      ...(i === 0 ? {inputShape: [s.size, s.size, s.channels]} : {}), filters: s.channels, kernelSize: s.kernel,
      padding: 'same', useBias: false, kernelInitializer: tf.initializers.heNormal({seed: 10 + i}),
    }));
    if (variant === 'InPlaceABN') {
      model.add(norms.layers.inPlaceABN({epsilon: EPSILON, alpha: ALPHA}));
    } else {
      model.add(tf.layers.batchNormalization({epsilon: EPSILON}));
      model.add(tf.layers.leakyReLU({alpha: ALPHA}));
    }
  }
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotNormal({seed: 99})}));
  model.compile({optimizer: tf.train.sgd(0.01), loss: 'categoricalCrossentropy'});
  return {
    label: variant,
    step: async () => {
      // fit reads the loss back, which also waits for the backend.
      await model.fit(x, labels, {batchSize: s.batch, epochs: 1, verbose: 0, shuffle: false});
    },
    dispose: () => {
      tf.dispose([x, labels]);
      model.optimizer.dispose();
      model.dispose();
    },
  };
}

export interface MemoryPeak {
  /** `tf.profile(step).peakBytes` minus the bytes before the step (the engine's count of bytes
   * over live tensor objects: a buffer shared by a tensor and its saved clones counts once per
   * object). */
  profilePeak: number;
  /** High-water mark of the bytes of distinct live data buffers (updated as each buffer is
   * created), above those live before the step. */
  bufferPeak: number;
  /** `bufferPeak` up to the start of the backward pass (the forward pass inside the tape). */
  forwardPeak: number;
  /** webgl only: high-water mark of `tf.memory().numBytesInGPU` (textures attached to live
   * data, in physical texture bytes), sampled after every kernel, minus its value before. */
  gpuPeak: number | null;
}

interface EngineInternals {
  tidy: (name: unknown, fn?: unknown) => unknown;
  profiler: {profileKernel: (...args: unknown[]) => unknown};
  trackTensor: (a: T, backend: unknown) => void;
  removeDataId: (dataId: object, backend: unknown) => void;
  state: {tensorInfo: WeakMap<object, {bytes: number}>};
}

/**
 * Runs one step under `tf.profile`, with the engine instrumented to count distinct data buffers
 * (the engine keeps per-buffer bytes in `tensorInfo`; a buffer is new when a tensor with an
 * unknown dataId is tracked and gone when its dataId is removed) and to sample after each kernel.
 */
export async function measurePeak(tf: TF, step: () => Promise<void>): Promise<MemoryPeak> {
  const engine = tf.engine() as unknown as EngineInternals;
  const gpu = () => (tf.memory() as {numBytesInGPU?: number}).numBytesInGPU ?? null;
  let live = 0;
  let livePeak = 0;
  const gpu0 = gpu();
  let gpuPeak = gpu0 ?? 0;
  const {profileKernel} = engine.profiler;
  const {trackTensor, removeDataId, tidy} = engine;
  let forwardPeak: number | null = null;
  // engine.gradients runs the forward pass in tidy('forward') and the backward in tidy('backward').
  engine.tidy = function (name, fn) {
    if (name === 'backward' && forwardPeak === null) forwardPeak = livePeak;
    return tidy.call(this, name, fn);
  };
  engine.trackTensor = function (a, backend) {
    const known = engine.state.tensorInfo.has(a.dataId);
    trackTensor.call(this, a, backend);
    if (!known) {
      live += engine.state.tensorInfo.get(a.dataId)!.bytes;
      livePeak = Math.max(livePeak, live);
    }
  };
  engine.removeDataId = function (dataId, backend) {
    const info = engine.state.tensorInfo.get(dataId);
    removeDataId.call(this, dataId, backend);
    if (info && !engine.state.tensorInfo.has(dataId)) live -= info.bytes;
  };
  engine.profiler.profileKernel = function (...args: unknown[]) {
    const r = profileKernel.apply(this, args);
    const g = gpu();
    if (g !== null) gpuPeak = Math.max(gpuPeak, g);
    return r;
  };
  const before = tf.memory().numBytes;
  let info: Awaited<ReturnType<TF['profile']>>;
  try {
    info = await tf.profile(step);
  } finally {
    engine.trackTensor = trackTensor;
    engine.removeDataId = removeDataId;
    engine.tidy = tidy;
    engine.profiler.profileKernel = profileKernel;
  }
  return {profilePeak: info.peakBytes - before, bufferPeak: livePeak, forwardPeak: forwardPeak ?? livePeak, gpuPeak: gpu0 === null ? null : gpuPeak - gpu0};
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Times the workloads' steps in rounds (a, b, …, a, b, …) so that the machine's drift affects
 * every variant alike: per workload, the median time and the median over rounds of its time
 * divided by the first workload's time in the same round.
 */
export async function timeInterleaved(ws: StepWorkload[], runs: number): Promise<Array<{ms: number; ratio: number}>> {
  const times: number[][] = ws.map(() => []);
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < ws.length; k++) {
      const t0 = performance.now();
      await ws[k].step();
      times[k].push(performance.now() - t0);
    }
  }
  return times.map((t) => ({ms: median(t), ratio: median(t.map((x, i) => x / times[0][i]))}));
}

export interface MemoryRow {
  path: 'functional' | 'layer';
  variant: string;
  /** The tfjs-layers pair every other row of its path is compared with. */
  baseline: boolean;
  peak: MemoryPeak;
  /** Median step time. */
  stepMs: number;
  /** Median over rounds of the step time over the baseline's step time in the same round. */
  timeRatio: number;
}

/**
 * Every variant of both paths on the current backend: a warm-up step, one measured step, then the
 * variants of each path timed together. `sync` waits for the backend (webgl: reads the loss).
 */
export async function runMemoryBench(tf: TF, norms: Norms, s: MemoryShape, runs: number, sync: (t: T) => void,
                                     log: (line: string) => void): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  const paths: Array<[MemoryRow['path'], StepWorkload[]]> = [
    ['functional', FUNCTIONAL.map((v) => functionalStep(tf, norms, v, s, sync))],
    ['layer', LAYERED.map((v) => layerStep(tf, norms, v, s))],
  ];
  for (const [path, ws] of paths) {
    try {
      const peaks: MemoryPeak[] = [];
      for (const w of ws) {
        await w.step();
        const tensors = tf.memory().numTensors;
        peaks.push(await measurePeak(tf, w.step));
        if (tf.memory().numTensors !== tensors) throw new Error(`${path} ${w.label}: the step leaked ${tf.memory().numTensors - tensors} tensors`);
      }
      const ms = await timeInterleaved(ws, runs);
      ws.forEach((w, i) => {
        rows.push({path, variant: w.label, baseline: i === 0, peak: peaks[i], stepMs: ms[i].ms, timeRatio: ms[i].ratio});
        const mib = (b: number | null) => (b === null ? '—' : (b / 2 ** 20).toFixed(2));
        log(`${tf.getBackend()} memory ${path.padEnd(10)} ${w.label.padEnd(40)} tf.profile ${mib(peaks[i].profilePeak)} MiB  ` +
          `buffers ${mib(peaks[i].bufferPeak)} MiB  forward ${mib(peaks[i].forwardPeak)} MiB  gpu ${mib(peaks[i].gpuPeak)} MiB  ` +
          `step ${ms[i].ms.toFixed(0)} ms (${ms[i].ratio.toFixed(2)}×)`);
      });
    } finally {
      for (const w of ws) w.dispose();
    }
  }
  return rows;
}
