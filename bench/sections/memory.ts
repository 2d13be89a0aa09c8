/**
 * The memory section: peak memory and time of one training step of 20 conv + norm + leakyRelu
 * blocks, In-Place ABN against tfjs-layers' BatchNormalization + LeakyReLU, as tf ops stepped by
 * `optimizer.minimize` and as layers inside `model.fit`; on the cpu backend in this process and
 * on webgl in headless Chromium (bench/browser/memory_page.ts). The workload and the probes are
 * in bench/memory_workload.ts.
 */
import * as tf from '@tensorflow/tfjs';
import {cpus} from 'node:os';
import * as norms from '../../src/index.js';
import {buildPage, openPage} from '../browser/driver.js';
import {runMemoryBench, type MemoryRow, type MemoryShape} from '../memory_workload.js';
import type {SectionResult} from '../report.js';
import type {TimeOptions} from '../interleave.js';

/**
 * Activations per backend (3×3 convolutions throughout). The cpu backend's Conv2DBackpropFilter
 * is a scalar loop (about 40 ms for one 2×16×16×8 filter gradient here), so larger activations
 * make a 20-block step take tens of seconds; webgl (SwiftShader on the same cores) takes 4× more
 * channels in a couple of seconds per step. The ratios barely depend on the size as long as the
 * activations outweigh the weights.
 */
export const MEMORY_SHAPES: Record<BackendRun['backend'], MemoryShape> = {
  cpu: {batch: 2, size: 16, channels: 8, blocks: 20, kernel: 3},
  webgl: {batch: 4, size: 16, channels: 16, blocks: 20, kernel: 3},
};

const PEAK_TARGET = 0.6;
const TIME_TARGET = 1.15;
/** The In-Place ABN row of each path, checked against the path's tfjs-layers row. */
const OURS: Record<MemoryRow['path'], string> = {functional: 'inplaceABN inPlace', layer: 'InPlaceABN'};

interface BackendRun {
  backend: 'cpu' | 'webgl';
  shape: MemoryShape;
  environment: string;
  rows: MemoryRow[];
}

async function runCpuMemory(runs: number, log: (s: string) => void): Promise<BackendRun> {
  await tf.setBackend('cpu');
  const shape = MEMORY_SHAPES.cpu;
  const rows = await runMemoryBench(tf, norms, shape, runs, () => {}, log);
  return {backend: 'cpu', shape, rows,
    environment: `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, tfjs ${tf.version.tfjs}`};
}

async function runWebglMemory(runs: number, log: (s: string) => void): Promise<BackendRun> {
  const html = await buildPage('bench/browser/memory_page.ts', '.cache/bench-memory');
  const bp = await openPage(html, (line) => {
    if (line.startsWith('webgl memory')) log(line);
  });
  try {
    const shape = MEMORY_SHAPES.webgl;
    const r = await bp.page.evaluate(([s, n]) => window.normsMemory.run(s, n), [shape, runs] as const);
    return {backend: 'webgl', shape, ...r};
  } catch (e) {
    throw new Error(`webgl memory page failed: ${(e as Error).message}\n${bp.log.slice(-20).join('\n')}`);
  } finally {
    await bp.close();
  }
}

const describe = (s: MemoryShape) => `${s.blocks} blocks on ${s.batch} × ${s.size}×${s.size}×${s.channels} activations ` +
  `(${(s.batch * s.size * s.size * s.channels * 4 / 1024).toFixed(0)} KiB each)`;
const mib = (b: number) => (b / 2 ** 20).toFixed(2);
const times = (r: number) => `${r.toFixed(2)}×`;

type Check = {label: string; pass: boolean};

function render(run: BackendRun, checks: Check[]): string {
  const gpu = run.backend === 'webgl';
  const lines = [
    `#### ${run.backend}: ${describe(run.shape)}`, '', `${run.environment}.`, '',
    `| path | norm | step peak, tf.profile (MiB) | × | step peak, buffers (MiB) | × |${gpu ? ' step peak, GPU textures (MiB) | × |' : ''} forward-pass peak, buffers (MiB) | step ms | × |`,
    `|---|---|---:|---:|---:|---:|${gpu ? '---:|---:|' : ''}---:|---:|---:|`,
  ];
  for (const path of ['functional', 'layer'] as const) {
    const rows = run.rows.filter((r) => r.path === path);
    const base = rows.find((r) => r.baseline)!;
    for (const r of rows) {
      const p = r.peak;
      lines.push(`| ${path === 'functional' ? 'tf ops + minimize' : 'layers + model.fit'} | ${r.variant} | ` +
        `${mib(p.profilePeak)} | ${times(p.profilePeak / base.peak.profilePeak)} | ${mib(p.bufferPeak)} | ` +
        `${times(p.bufferPeak / base.peak.bufferPeak)} |` +
        (gpu ? ` ${mib(p.gpuPeak!)} | ${times(p.gpuPeak! / base.peak.gpuPeak!)} |` : '') +
        ` ${mib(p.forwardPeak)} | ${r.stepMs.toFixed(0)} | ${times(r.timeRatio)} |`);
    }
    const ours = rows.find((r) => r.variant === OURS[path])!;
    const ratios = [ours.peak.profilePeak / base.peak.profilePeak, ours.peak.bufferPeak / base.peak.bufferPeak];
    if (gpu) ratios.push(ours.peak.gpuPeak! / base.peak.gpuPeak!);
    const what = gpu ? 'tf.profile / buffers / GPU textures' : 'tf.profile / buffers';
    checks.push({
      label: `${run.backend} ${path}: ${ours.variant} step peak ${ratios.map(times).join(' / ')} (${what}) of ` +
        `${base.variant} <= ${PEAK_TARGET}×`,
      pass: ratios.every((x) => x <= PEAK_TARGET),
    });
    const t = ours.timeRatio;
    checks.push({label: `${run.backend} ${path}: ${ours.variant} step time ${times(t)} of ${base.variant} <= ${TIME_TARGET}×`,
      pass: t <= TIME_TARGET});
  }
  return lines.join('\n');
}

export async function runMemory(opts: TimeOptions, log: (s: string) => void): Promise<SectionResult> {
  // Steps take seconds and the machine is shared: more rounds than the op benchmarks' minimum.
  const runs = (opts.minRuns ?? 7) >= 7 ? 11 : 7;
  const backends = (process.env.TFJS_NORMS_MEMORY_BACKENDS ?? 'cpu,webgl').split(',');
  const results: BackendRun[] = [];
  for (const b of backends) {
    if (b === 'cpu') results.push(await runCpuMemory(runs, log));
    else if (b === 'webgl') results.push(await runWebglMemory(runs, log));
    else throw new Error(`TFJS_NORMS_MEMORY_BACKENDS: unknown backend '${b}' (cpu, webgl)`);
  }
  const checks: Check[] = [];
  const markdown = [
    `### In-Place ABN: memory of a training step`, '',
    'One training step of a stack of blocks [conv 3×3 (no bias) → norm → leakyRelu(0.01)] (NHWC), then a dense ' +
    'softmax head and cross-entropy; SGD. "tf ops + minimize": the model written with tf ops ' +
    '(`tf.conv2d`; the baseline applies `tf.layers.batchNormalization()` and `tf.layers.leakyReLU()` to tensors), one ' +
    '`optimizer.minimize`. "layers + model.fit": a `tf.sequential` of `tf.layers.conv2d` + norm layers, one batch of `model.fit`. ' +
    'Peaks are above the memory in use before the step: "tf.profile" is `tf.profile(step).peakBytes` (the engine counts ' +
    'bytes per live tensor object, so a buffer shared by a tensor and the clones the tape saves counts several times); ' +
    '"buffers" is the high-water mark of distinct live data buffers, sampled as each is created; "GPU textures" is the ' +
    'high-water mark of `tf.memory().numBytesInGPU` (textures attached to live data, physical size) after each kernel; ' +
    '"forward-pass peak" is the buffers\' high-water mark before the backward pass starts. Step time: median over ' +
    `${runs} steps; the variants run in interleaved rounds and × is the median over rounds of the ratio to the ` +
    'tfjs-layers row of the same path (for peaks: the plain ratio).', '',
    ...results.flatMap((r) => [render(r, checks), '']),
    'Targets:', '', ...checks.map((c) => `- ${c.pass ? '✅' : '❌'} ${c.label}`), '',
  ].join('\n');
  return {
    section: 'memory', backend: results.map((r) => r.backend).join(', '),
    environment: `${results.map((r) => r.backend).join(' and ')}, environments below`,
    date: new Date().toISOString().slice(0, 10), rows: [], extra: {markdown, checks},
  };
}
