/**
 * The tensorflow section: every workload on tfjs-node's `tensorflow` backend (TensorFlow's
 * eager ops, oneDNN on x86 CPUs), in this process. tfjs-node is loaded here, on demand, and the
 * backend set explicitly, so the other sections are unaffected. The baselines are tfjs-layers'
 * layers and the `tf.moments` composites on the same backend.
 *
 * Each row times ours, the baseline and the `x.add(1)` yardstick side by side (bench/interleave.ts:
 * one call of each per round), so that the ratios hold on a shared, noisy machine. A second table
 * times the kernel paths that were candidates for each norm (docs/tensorflow.md explains the
 * choices from it).
 */
import type * as tfType from '@tensorflow/tfjs';
import {cpus} from 'node:os';
import * as norms from '../../src/index.js';
import '../../src/node.js';
import {nativePathFlags, type NativePaths} from '../../kernels/tensorflow/norm_graph.js';
import {withFlags} from '../../src/flags.js';
import type {SectionResult} from '../report.js';
import {timeInterleaved, timeWorkloads, type TimeOptions} from '../interleave.js';
import {opsRun} from '../../test/tensorflow/support/ops_log.js';
import {forwardCostTable} from './tensorflow_cost.js';
import {opsTimedTable} from './tensorflow_ops.js';
import {mklInstanceNorm, rmsNormFbnGamma, rmsNormTfScalars} from './tensorflow_raw.js';
import {SHAPES, yardstick} from '../workloads.js';

type TF = typeof tfType;
type T = tfType.Tensor;

interface NodeBackendInfo {
  isUsingGpuDevice: boolean;
  binding: {TF_Version: string};
}

/** `f`, recording the process's CPU time (all threads) of each call into `sink`. */
function cpuTimed<R>(f: () => R, sink: number[]): () => R {
  return () => {
    const c0 = process.cpuUsage();
    const r = f();
    const c = process.cpuUsage(c0);
    sink.push((c.user + c.system) / 1000);
    return r;
  };
}

const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];

/** Runs `f` with some of the kernels' paths forced. */
function withPaths<R>(paths: Partial<NativePaths>, f: () => R): R {
  return withFlags(nativePathFlags(paths), f);
}

interface Alternative {
  norm: string;
  shape: number[];
  path: string;
  chosen: boolean;
  paths: Partial<NativePaths>;
  run: (x: T, gamma: T, beta: T) => T;
  C: number;
  /** False for forward-only candidates (inference, raw op sequences without a gradient). */
  backward?: boolean;
}

/** The candidate kernel paths for each norm, as measured for docs/kernels.md and docs/tensorflow.md. */
function alternatives(tf: TF, gpu: boolean): Alternative[] {
  const bn = (fmt: 'NCHW' | 'NHWC') => (x: T, gamma: T, beta: T) => {
    const r = norms.batchNorm(x, {training: true, gamma, beta, dataFormat: fmt});
    r.mean.dispose();
    r.variance.dispose();
    return r.y;
  };
  const gn = (fmt: 'NCHW' | 'NHWC') => (x: T, gamma: T, beta: T) =>
    norms.groupNorm(x, {groups: 32, gamma, beta, dataFormat: fmt});
  const inorm = (fmt: 'NCHW' | 'NHWC') => (x: T, gamma: T, beta: T) =>
    norms.instanceNorm(x, {gamma, beta, dataFormat: fmt});
  const ln = (x: T, gamma: T, beta: T) => norms.layerNorm(x, {gamma, beta});
  // Inference with given statistics: beta as the mean and gamma (≈ 1 ± 0.1) as the variance.
  const bnInference = (x: T, gamma: T, beta: T) => norms.batchNorm(x, {training: false, gamma, beta,
    mean: beta as tfType.Tensor1D, variance: gamma as tfType.Tensor1D, dataFormat: 'NCHW'}).y;
  const rms = (x: T, gamma: T) => norms.rmsNorm(x, {gamma, epsilon: 1e-6});
  const fbn = 'FusedBatchNormV3 / FusedBatchNormGradV3';
  const red = 'Sum + EuclideanNorm, Mul + AddV2';
  const {nchw, nhwc, layerNorm} = SHAPES;
  const fwdOnly = {backward: false, paths: {}};
  return [
    {norm: 'BatchNorm inference NCHW', shape: nchw, C: nchw[1], run: bnInference, path: 'Mul + AddV2 (per-channel A, B)',
      chosen: !gpu, ...fwdOnly, paths: {fusedBatchNormChannelsFirst: 'never'}},
    {norm: 'BatchNorm inference NCHW', shape: nchw, C: nchw[1], run: bnInference, path: 'FusedBatchNormV3 inference (NCHW)',
      chosen: gpu, ...fwdOnly, paths: {fusedBatchNormChannelsFirst: 'always'}},
    {norm: 'InstanceNorm NCHW', shape: nchw, C: nchw[1], run: mklInstanceNorm(tf, true),
      path: '_MklFusedInstanceNorm (no statistics outputs: forward only)', chosen: false, ...fwdOnly},
    {norm: 'InstanceNorm NHWC', shape: nhwc, C: nhwc[3], run: inorm('NHWC'), path: red, chosen: true, paths: {}},
    {norm: 'InstanceNorm NHWC', shape: nhwc, C: nhwc[3], run: mklInstanceNorm(tf, false),
      path: '_MklFusedInstanceNorm (no statistics outputs: forward only)', chosen: false, ...fwdOnly},
    {norm: 'RMSNorm', shape: layerNorm, C: layerNorm[2], run: rms, path: 'EuclideanNorm, Mul, Mul (per-row scalars on the host)',
      chosen: true, paths: {}},
    {norm: 'RMSNorm', shape: layerNorm, C: layerNorm[2], run: rmsNormTfScalars(tf),
      path: 'EuclideanNorm, Square + Mul + AddV2 + Rsqrt on [rows], Mul, Mul, 4 Reshapes', chosen: false, ...fwdOnly},
    {norm: 'RMSNorm', shape: layerNorm, C: layerNorm[2], run: rmsNormFbnGamma(tf),
      path: 'EuclideanNorm, Mul, FusedBatchNormV3 NHWC [1, rows, 1, D] for γ', chosen: false, ...fwdOnly},
    {norm: 'BatchNorm NHWC', shape: nhwc, C: nhwc[3], run: bn('NHWC'), path: fbn, chosen: true, paths: {}},
    {norm: 'BatchNorm NHWC', shape: nhwc, C: nhwc[3], run: bn('NHWC'), path: red, chosen: false,
      paths: {fusedBatchNorm: false}},
    {norm: 'BatchNorm NCHW', shape: nchw, C: nchw[1], run: bn('NCHW'), path: `${fbn} (NCHW)`, chosen: gpu,
      paths: {fusedBatchNormChannelsFirst: 'always'}},
    {norm: 'BatchNorm NCHW', shape: nchw, C: nchw[1], run: bn('NCHW'), path: red, chosen: !gpu,
      paths: {fusedBatchNormChannelsFirst: 'never'}},
    {norm: 'InstanceNorm NCHW', shape: nchw, C: nchw[1], run: inorm('NCHW'), path: `${fbn} on [1, N·C, S, 1]`,
      chosen: gpu, paths: {fusedBatchNormChannelsFirst: 'always'}},
    {norm: 'InstanceNorm NCHW', shape: nchw, C: nchw[1], run: inorm('NCHW'), path: red, chosen: !gpu,
      paths: {fusedBatchNormChannelsFirst: 'never'}},
    {norm: 'GroupNorm (32 groups) NHWC', shape: nhwc, C: nhwc[3], run: gn('NHWC'), path: `${red}, raw x first`,
      chosen: true, paths: {}},
    {norm: 'GroupNorm (32 groups) NHWC', shape: nhwc, C: nhwc[3], run: gn('NHWC'), path: `${red}, always x − shift first`,
      chosen: false, paths: {rawInputs: false}},
    {norm: 'LayerNorm', shape: layerNorm, C: layerNorm[2], run: ln,
      path: 'Sum + EuclideanNorm, _MklLayerNorm; backward x̂ from _MklLayerNorm', chosen: !gpu, paths: {}},
    {norm: 'LayerNorm', shape: layerNorm, C: layerNorm[2], run: ln,
      path: 'Sum + EuclideanNorm, Sub + Mul + Mul + AddV2; backward x̂ = (x − mean)·rstd (Sub + Mul)', chosen: gpu,
      paths: {mklLayerNorm: false}},
  ];
}

async function alternativesTable(tf: TF, gpu: boolean, sync: (t: T[]) => void, opts: TimeOptions,
                                 log: (s: string) => void): Promise<string> {
  const lines = [
    '### Kernel paths measured (tensorflow backend)', '',
    'Each norm\'s candidate paths, timed side by side with `x.add(1)` on the same shape; ' +
    '"vs add" is forward time / add time; "CPU" is the process\'s CPU time per call (all ' +
    'threads: TensorFlow\'s pool included), less sensitive to other jobs on the machine than wall ' +
    'time. The chosen path is marked.', '',
    '| norm | shape | path | chosen | TF ops (forward / backward) | forward ms | vs add | forward CPU ms | ' +
    'add CPU ms | forward+backward ms |',
    '|---|---|---|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const a of alternatives(tf, gpu)) {
    const x = tf.variable(tf.randomNormal(a.shape, 0, 1, 'float32', 1));
    const gamma = tf.variable(tf.randomNormal([a.C], 1, 0.1, 'float32', 2));
    const beta = tf.variable(tf.randomNormal([a.C], 0, 0.1, 'float32', 3));
    const dy = tf.randomNormal(a.shape, 0, 1, 'float32', 4);
    const add = yardstick(tf, a.shape);
    const forward = () => withPaths(a.paths, () => a.run(x, gamma, beta));
    const both = () => withPaths(a.paths, () => {
      const {value, grads} = tf.engine().gradients(() => a.run(x, gamma, beta), [x, gamma, beta], dy);
      return [value, ...grads];
    });
    const hasBackward = a.backward !== false;
    const fwdOps = opsRun(() => tf.dispose(forward())).ops.length;
    const bwdOps = hasBackward ? opsRun(() => tf.dispose(both())).ops.length - fwdOps : undefined;
    const cpu = {forward: [] as number[], add: [] as number[]};
    const fns = {forward: cpuTimed(forward, cpu.forward), add: cpuTimed(add.run, cpu.add)};
    const t = await timeInterleaved(tf, hasBackward ? {...fns, both} : fns, sync, opts);
    const bothMs = hasBackward ? t.both.toFixed(2) : '—';
    lines.push(`| ${a.norm} | [${a.shape}] | ${a.path} | ${a.chosen ? '✔' : ''} | ${fwdOps} / ${bwdOps ?? '—'} | ` +
      `${t.forward.toFixed(2)} | ${(t.forward / t.add).toFixed(1)}× | ${median(cpu.forward).toFixed(2)} | ` +
      `${median(cpu.add).toFixed(3)} | ${bothMs} |`);
    log(`tensorflow  path ${a.norm.padEnd(28)} ${a.path.padEnd(48)} fwd ${t.forward.toFixed(2)} ms  ` +
        `fwd+bwd ${bothMs} ms  add ${t.add.toFixed(3)} ms`);
    tf.dispose([x, gamma, beta, dy]);
    add.dispose();
  }
  return lines.join('\n');
}

export async function runTensorflow(opts: TimeOptions, log: (s: string) => void): Promise<SectionResult> {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  const tf = (await import('@tensorflow/tfjs-node')) as unknown as TF;
  await tf.setBackend('tensorflow');
  if (tf.getBackend() !== 'tensorflow') throw new Error('the tensorflow backend did not start');
  const info = tf.backend() as unknown as NodeBackendInfo;
  // TensorFlow's CPU kernels run synchronously; on a GPU, read one element to wait for the queue.
  const sync = info.isUsingGpuDevice
    ? (t: T[]) => { tf.tidy(() => tf.slice(tf.reshape(t[0], [-1]), 0, 1)).dataSync(); }
    : () => {};
  const only = process.env.TFJS_NORMS_BENCH_ONLY;
  const rows = await timeWorkloads(tf, norms, sync, opts, log, only);
  // A partial run (only some rows) keeps the saved tables (see saveSection).
  const markdown = only ? undefined : await alternativesTable(tf, info.isUsingGpuDevice, sync, opts, log) + '\n\n' +
    (info.isUsingGpuDevice ? '' : forwardCostTable(tf, opts, log) + '\n\n' + opsTimedTable(tf, opts, log));
  return {
    section: 'tensorflow', backend: 'tensorflow',
    environment: `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ` +
      `tfjs-node ${(tf.version as Record<string, string>)['tfjs-node'] ?? tf.version.tfjs}, ` +
      `libtensorflow ${info.binding.TF_Version} (${info.isUsingGpuDevice ? 'GPU' : 'CPU, oneDNN'})`,
    date: new Date().toISOString().slice(0, 10), rows, extra: markdown === undefined ? undefined : {markdown, checks: []},
  };
}
