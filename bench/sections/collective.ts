/**
 * The collective section: all-reduce latency for 2·C+1 floats (the per-channel statistics of
 * C channels) on the thread and TCP transports, and a training step with syncBatchNorm against
 * the same step with batchNorm, at world size 2. Uses the built package (dist/cjs).
 */
import {execFile} from 'node:child_process';
import {cpus} from 'node:os';
import {join} from 'node:path';
import {Worker} from 'node:worker_threads';
import {collective} from '../../src/index.js';
import {freePort} from '../../src/cli/launch.js';
import type {SectionResult} from '../report.js';

const CHANNELS = [64, 128, 256, 512, 1024, 2048];
const workers = join(import.meta.dirname, '..', 'workers');

function threads<T>(script: string, world: number, data: object): Promise<T[]> {
  const handle = collective.createThreadGroup(world);
  return Promise.all(Array.from({length: world}, (_, rank) => new Promise<T>((resolve, reject) => {
    const w = new Worker(join(workers, script), {workerData: {handle, rank, ...data}});
    w.once('message', (m) => { resolve(m as T); void w.terminate(); });
    w.once('error', reject);
  })));
}

async function tcpLatency(sizes: number[], iters: number): Promise<Record<string, number>> {
  const port = String(await freePort('127.0.0.1'));
  const env = {...process.env, WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: port, TFJS_NORMS_TOKEN: 'bench'};
  const run = (rank: number) => new Promise<string>((resolve, reject) => execFile(process.execPath,
    [join(workers, 'tcp_allreduce_rank.cjs'), sizes.join(','), String(iters)],
    {env: {...env, RANK: String(rank)}, timeout: 120000}, (e, stdout) => (e ? reject(e) : resolve(stdout))));
  const [out0] = await Promise.all([run(0), run(1)]);
  return JSON.parse(out0.trim());
}

export async function runCollective(opts: {minMs?: number}, log: (s: string) => void): Promise<SectionResult> {
  const quick = (opts.minMs ?? 1500) < 1000;
  const sizes = CHANNELS.map((c) => 2 * c + 1);
  const iters = quick ? 300 : 2000;
  const thread = (await threads<Record<string, number>>('allreduce_worker.cjs', 2, {sizes, iters}))[0];
  const tcp = await tcpLatency(sizes, quick ? 200 : 1000);
  const lat = ['| C | floats (2·C+1) | threads µs | TCP loopback µs |', '|---:|---:|---:|---:|'];
  CHANNELS.forEach((c, i) => {
    const n = sizes[i];
    lat.push(`| ${c} | ${n} | ${thread[n].toFixed(1)} | ${tcp[n].toFixed(0)} |`);
    log(`collective  C=${c}  threads ${thread[n].toFixed(1)} µs  tcp ${tcp[n].toFixed(0)} µs`);
  });
  const steps = await threads<{batchNorm: number; sync: number}>('train_step_worker.cjs', 2, {steps: quick ? 5 : 20, batch: 16});
  const step = steps[0];
  const ratio = step.sync / step.batchNorm;
  log(`collective  training step: batchNorm ${step.batchNorm.toFixed(1)} ms, syncBatchNorm ${step.sync.toFixed(1)} ms (${ratio.toFixed(2)}×)`);
  const n256 = 2 * 256 + 1;
  const checks = [
    {label: `thread all-reduce C=256 median ${thread[n256].toFixed(1)} µs <= 50 µs`, pass: thread[n256] <= 50},
    {label: `TCP loopback all-reduce C=256 median ${tcp[n256].toFixed(0)} µs <= 300 µs`, pass: tcp[n256] <= 300},
    {label: `syncBatchNorm step ${ratio.toFixed(2)}× the batchNorm step <= 1.2×`, pass: ratio <= 1.2},
  ];
  const markdown = [
    'All-reduce latency at world size 2 (median per call, rank 0), for the per-channel statistics of C channels:',
    '', ...lat, '',
    'Training step of a small conv net (two conv + norm + relu blocks, 16 images of 16×16 per rank) on ' +
    'the cpu backend, two worker-thread ranks running at once (median ms per step, rank 0):',
    '', '| norm | step ms |', '|---|---:|',
    `| batchNorm (no communication) | ${step.batchNorm.toFixed(1)} |`,
    `| syncBatchNorm (thread transport) | ${step.sync.toFixed(1)} |`,
    '', 'Targets:', '', ...checks.map((c) => `- ${c.pass ? '✅' : '❌'} ${c.label}`),
  ].join('\n');
  return {
    section: 'collective', backend: 'cpu',
    environment: `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
    date: new Date().toISOString().slice(0, 10), rows: [], extra: {markdown, checks},
  };
}
