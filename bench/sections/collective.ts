/**
 * The collective section: all-reduce latency for 2·C+1 floats (the per-channel statistics of
 * C channels) on the thread and TCP transports, and a training step with syncBatchNorm against
 * the same step with batchNorm, at world size 2; the bandwidth of large float32 all-reduces
 * (star and ring, 2–4 processes) next to a plain loopback socket copy and a plain-socket ring
 * (the ring's data movement alone, its ceiling here); and a data-parallel
 * training step of a ResNet-style model on 1, 2 and 4 processes. Uses the built package (dist/cjs).
 */
import {execFile, spawn} from 'node:child_process';
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

/**
 * Median µs of a wake-up round trip between two threads (Atomics.notify, then Atomics.wait for
 * the answer): what each hand-over between a rank's compute and network threads costs here.
 */
async function threadRoundTrip(iters: number): Promise<number> {
  const ctl = new Int32Array(new SharedArrayBuffer(12));
  const w = new Worker(join(workers, 'wake_worker.cjs'), {workerData: ctl.buffer});
  await new Promise((resolve) => w.once('online', resolve));
  const times: number[] = [];
  for (let i = 0; i < iters + 50; i++) {
    const t0 = process.hrtime.bigint();
    Atomics.store(ctl, 1, 0);
    Atomics.store(ctl, 0, 1);
    Atomics.notify(ctl, 0);
    Atomics.wait(ctl, 1, 0, 1000);
    if (i >= 50) times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  Atomics.store(ctl, 2, 1);
  Atomics.store(ctl, 0, 1);
  Atomics.notify(ctl, 0);
  await w.terminate();
  return times.sort((a, b) => a - b)[times.length >> 1];
}

const MB = 1024 * 1024;
const BANDWIDTH_SIZES = [1 * MB, 16 * MB, 100 * MB];

/** Runs `script` as `world` ranks (processes) on loopback; resolves with rank 0's JSON line. */
async function processGroup<T>(script: string, world: number, args: string[], env: Record<string, string> = {},
                               timeoutMs = 600000): Promise<T> {
  const port = String(await freePort('127.0.0.1'));
  const base = world === 1 ? {} : {WORLD_SIZE: String(world), MASTER_ADDR: '127.0.0.1', MASTER_PORT: port, TFJS_NORMS_TOKEN: 'bench'};
  const run = (rank: number) => new Promise<string>((resolve, reject) => execFile(process.execPath,
    [join(workers, script), ...args],
    {env: {...process.env, TF_CPP_MIN_LOG_LEVEL: '2', ...base, ...(world === 1 ? {} : {RANK: String(rank)}), ...env},
     timeout: timeoutMs, maxBuffer: 1 << 20}, (e, stdout) => (e ? reject(e) : resolve(stdout))));
  const [out0] = await Promise.all(Array.from({length: world}, (_, r) => run(r)));
  return JSON.parse(out0.trim()) as T;
}

/** Median ms of a plain loopback TCP copy of `bytes` between two processes. */
async function loopbackCopy(bytes: number, iters: number, warmups = 1): Promise<number> {
  const port = String(await freePort('127.0.0.1'));
  const recv = spawn(process.execPath, [join(workers, 'loopback_copy.cjs'), 'recv', port, String(bytes)]);
  await new Promise<void>((resolve, reject) => {
    recv.stdout.once('data', () => resolve());
    recv.once('exit', (code) => reject(new Error(`loopback receiver exited with ${code}`)));
  });
  const out = await new Promise<string>((resolve, reject) => execFile(process.execPath,
    [join(workers, 'loopback_copy.cjs'), 'send', port, String(bytes), String(iters), String(warmups)], {timeout: 120000},
    (e, stdout) => (e ? reject(e) : resolve(stdout))));
  recv.kill();
  return (JSON.parse(out.trim()) as {ms: number}).ms;
}

const gbps = (bytes: number, ms: number) => bytes / ms / 1e6;
/** NCCL-tests' bus bandwidth of an all-reduce: what each rank's link carries per second. */
const busGbps = (bytes: number, world: number, ms: number) => gbps((bytes * 2 * (world - 1)) / world, ms);

async function bandwidth(quick: boolean, log: (s: string) => void): Promise<{markdown: string[]; checks: Check[]}> {
  const iters = (quick ? [5, 5, 3] : [15, 9, 5]).join(',');
  // The first runs of a size are up to twice as slow (TCP windows, V8 compiling the loops): every
  // all-reduce and the raw ring are timed after the same 5 warm-up runs.
  const WARMUPS = 5;
  const loopIters = quick ? 3 : 10;
  // The raw ring is cheap (at most ~0.3 s a run): more runs keep this ceiling out of the noise.
  const rawIters = (quick ? [9, 9, 5] : [21, 15, 9]).join(',');
  // The copy is timed before and after the all-reduces (the machine's load drifts); the mean is reported.
  const before: number[] = [];
  for (const b of BANDWIDTH_SIZES) before.push(await loopbackCopy(b, loopIters, WARMUPS));
  const runs: Record<string, Record<number, number>> = {};
  for (const world of [2, 3, 4]) {
    for (const mode of ['star', 'ring', 'sealed'] as const) {
      runs[`${world} ${mode}`] = await processGroup<Record<number, number>>('ring_allreduce_rank.cjs', world,
        [BANDWIDTH_SIZES.join(','), iters, String(WARMUPS)],
        {TFJS_NORMS_MAX_MESSAGE_BYTES: String(128 * MB), TFJS_NORMS_RING_THRESHOLD_BYTES: mode === 'star' ? 'off' : '0',
         TFJS_NORMS_RING_ENCRYPT: mode === 'sealed' ? '1' : '0'});
      log(`collective  all-reduce ${mode} world ${world}: ` +
        BANDWIDTH_SIZES.map((b) => `${b / MB} MB ${busGbps(b, world, runs[`${world} ${mode}`][b]).toFixed(2)} GB/s`).join(', '));
    }
    // The ring's data movement over plain sockets (no adds, no MAC): what the ring could reach here.
    runs[`${world} raw`] = await processGroup<Record<number, number>>('raw_ring_rank.cjs', world, [BANDWIDTH_SIZES.join(','), rawIters, String(WARMUPS)]);
    log(`collective  raw ring world ${world}: ` +
      BANDWIDTH_SIZES.map((b) => `${b / MB} MB ${busGbps(b, world, runs[`${world} raw`][b]).toFixed(2)} GB/s`).join(', '));
  }
  const loop: number[] = [];
  for (const [i, b] of BANDWIDTH_SIZES.entries()) loop.push((before[i] + await loopbackCopy(b, loopIters, WARMUPS)) / 2);
  const rows = ['| size | ranks | loopback copy GB/s | raw ring bus GB/s | raw ring / copy | star bus GB/s | ring bus GB/s | ' +
                'ring / copy | ring / raw ring | ring, encrypted, bus GB/s |',
                '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'];
  const checks: Check[] = [];
  BANDWIDTH_SIZES.forEach((b, i) => {
    const copy = gbps(b, loop[i]);
    for (const world of [2, 3, 4]) {
      const star = busGbps(b, world, runs[`${world} star`][b]);
      const ring = busGbps(b, world, runs[`${world} ring`][b]);
      const sealed = busGbps(b, world, runs[`${world} sealed`][b]);
      const raw = busGbps(b, world, runs[`${world} raw`][b]);
      rows.push(`| ${b / MB} MB | ${world} | ${copy.toFixed(2)} | ${raw.toFixed(2)} | ${(raw / copy).toFixed(2)} | ${star.toFixed(2)} | ` +
        `${ring.toFixed(2)} | ${(ring / copy).toFixed(2)} | ${(ring / raw).toFixed(2)} | ${sealed.toFixed(2)} |`);
      if (b >= 16 * MB) {
        checks.push({label: `ring bus bandwidth ${b / MB} MB on ${world} ranks ${ring.toFixed(2)} GB/s >= 0.5× the loopback copy ` +
          `(${copy.toFixed(2)} GB/s)`, pass: ring >= 0.5 * copy});
      }
    }
  });
  return {
    markdown: [
      'Float32 all-reduce bandwidth on loopback, ranks as processes (median, rank 0, after a barrier), as NCCL-tests’ ' +
      'bus bandwidth (size·2(W−1)/W / time), next to a plain TCP copy of the same size between two processes in the ' +
      'same run. Star: through rank 0 (`TFJS_NORMS_RING_THRESHOLD_BYTES=off`); ring: reduce-scatter + all-gather ' +
      'between neighbours (1 MiB frames authenticated with AES-GMAC, the default; encrypted: ' +
      '`TFJS_NORMS_RING_ENCRYPT=1`, AES-256-GCM). Raw ring: the ring’s data movement alone over plain loopback ' +
      'sockets, W processes (`bench/workers/raw_ring_rank.cjs`: the same segments, 1 MiB chunks and pipelining, ' +
      'sent from one buffer and copied into another; no adds, no MAC; medians after 5 warm-up runs, as for the copy, star and ring), ' +
      'i.e. the most any ring all-reduce can reach here. The copy moves the size once with both cores; the W ranks of a ring move 2(W−1)·size between them over ' +
      'the same two cores, so their bus bandwidth is at most about copy/W (0.5× at 2 ranks, 0.33× at 3, 0.25× at 4) ' +
      'when the copy keeps both cores busy (one block, then an acknowledgement: less so for the smaller sizes) ' +
      '— see [distributed.md](distributed.md#why-the-ring-misses-05-of-the-loopback-copy-on-this-machine):',
      '', ...rows, ''],
    checks,
  };
}

async function trainingStep(quick: boolean, log: (s: string) => void): Promise<string[]> {
  const steps = String(quick ? 2 : 5);
  const rows = ['| ranks | step ms (rank 0) | images/s (all ranks) | scaling efficiency |', '|---:|---:|---:|---:|'];
  let one = 0;
  let params = 0;
  for (const world of [1, 2, 4]) {
    const r = await processGroup<{ms: number; params: number}>('dp_resnet_rank.cjs', world, [steps, '16']);
    params = r.params;
    if (world === 1) one = r.ms;
    const eff = one / r.ms;
    rows.push(`| ${world} | ${r.ms.toFixed(0)} | ${((16 * world * 1000) / r.ms).toFixed(0)} | ${(100 * eff).toFixed(0)} % |`);
    log(`collective  ResNet-style step on ${world} rank(s): ${r.ms.toFixed(0)} ms`);
  }
  return [
    `Data-parallel training step of a ResNet-style model (${(params / 1e6).toFixed(2)} M parameters: three residual ` +
    'blocks of 3×3 convolutions with batch norm on 16×16×3 images, then a dense head; 16 images per rank; SGD through ' +
    '`distributedOptimizer`, its 16 MiB gradient buckets going round the ring) on the tfjs-node `tensorflow` backend, ' +
    'ranks as processes on this machine (median ms per step; efficiency = one rank’s step time / this step time):',
    '', ...rows, ''];
}

interface Check {label: string; pass: boolean}

export async function runCollective(opts: {minMs?: number}, log: (s: string) => void): Promise<SectionResult> {
  const quick = (opts.minMs ?? 1500) < 1000;
  const sizes = CHANNELS.map((c) => 2 * c + 1);
  const iters = quick ? 300 : 2000;
  const thread = (await threads<Record<string, number>>('allreduce_worker.cjs', 2, {sizes, iters}))[0];
  const tcp = await tcpLatency(sizes, quick ? 200 : 1000);
  // This machine's floor for the star at 2 ranks: one thread hand-over each way and one TCP
  // round trip of the message, measured in the same run.
  const wake = await threadRoundTrip(quick ? 500 : 3000);
  const rtt: number[] = [];
  for (const n of sizes) rtt.push(1000 * await loopbackCopy(8 * n, quick ? 200 : 1000, 20));
  const lat = ['| C | floats (2·C+1) | threads µs | TCP loopback µs | plain TCP round trip µs | thread wake round trip µs |',
               '|---:|---:|---:|---:|---:|---:|'];
  CHANNELS.forEach((c, i) => {
    const n = sizes[i];
    lat.push(`| ${c} | ${n} | ${thread[n].toFixed(1)} | ${tcp[n].toFixed(0)} | ${rtt[i].toFixed(0)} | ${wake.toFixed(0)} |`);
    log(`collective  C=${c}  threads ${thread[n].toFixed(1)} µs  tcp ${tcp[n].toFixed(0)} µs  (plain TCP round trip ` +
      `${rtt[i].toFixed(0)} µs, thread wake round trip ${wake.toFixed(0)} µs)`);
  });
  const steps = await threads<{batchNorm: number; sync: number}>('train_step_worker.cjs', 2, {steps: quick ? 5 : 20, batch: 16});
  const step = steps[0];
  const ratio = step.sync / step.batchNorm;
  log(`collective  training step: batchNorm ${step.batchNorm.toFixed(1)} ms, syncBatchNorm ${step.sync.toFixed(1)} ms (${ratio.toFixed(2)}×)`);
  const bw = await bandwidth(quick, log);
  const dp = await trainingStep(quick, log);
  const n256 = 2 * 256 + 1;
  const checks: Check[] = [
    {label: `thread all-reduce C=256 median ${thread[n256].toFixed(1)} µs <= 50 µs`, pass: thread[n256] <= 50},
    {label: `TCP loopback all-reduce C=256 median ${tcp[n256].toFixed(0)} µs <= 300 µs (this machine: plain TCP round trip ` +
      `${rtt[CHANNELS.indexOf(256)].toFixed(0)} µs + thread wake round trip ${wake.toFixed(0)} µs)`, pass: tcp[n256] <= 300},
    {label: `syncBatchNorm step ${ratio.toFixed(2)}× the batchNorm step <= 1.2×`, pass: ratio <= 1.2},
    ...bw.checks,
  ];
  const markdown = [
    'All-reduce latency at world size 2 (median per call, rank 0), for the per-channel statistics of C channels, ' +
    'float64; next to it, measured in the same run, what the TCP all-reduce cannot go below on this machine: a plain ' +
    'TCP round trip of the same bytes between two processes (`bench/workers/loopback_copy.cjs`: the message, a ' +
    'one-byte answer) and a wake-up round trip between two threads (`Atomics.notify` / `Atomics.wait`, as between ' +
    'a rank and its network thread):',
    '', ...lat, '',
    'Training step of a small conv net (two conv + norm + relu blocks, 16 images of 16×16 per rank) on ' +
    'the cpu backend, two worker-thread ranks running at once (median ms per step, rank 0):',
    '', '| norm | step ms |', '|---|---:|',
    `| batchNorm (no communication) | ${step.batchNorm.toFixed(1)} |`,
    `| syncBatchNorm (thread transport) | ${step.sync.toFixed(1)} |`,
    '', ...bw.markdown, ...dp, 'Targets:', '', ...checks.map((c) => `- ${c.pass ? '✅' : '❌'} ${c.label}`),
  ].join('\n');
  return {
    section: 'collective', backend: 'cpu',
    environment: `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
    date: new Date().toISOString().slice(0, 10), rows: [], extra: {markdown, checks},
  };
}
