/**
 * Shared by the engine tests: the SyncBatchNorm rank job (scripts/sync_bn_rank.cjs) run in this
 * process as thread ranks (the reference), run as plain processes, and the check of a run
 * against the reference (bit for bit) and PyTorch's fixtures (tolerance).
 */
import {spawn} from 'node:child_process';
import {join} from 'node:path';
import {Worker} from 'node:worker_threads';
import {createThreadGroup} from '../../src/collective/index.js';
import {compare, sliceBatch, type FixtureTensor} from '../support/fixtures.js';
import {loadFixtures} from '../support/load.js';

const root = join(__dirname, '..', '..');
export const rankScript = join(root, 'test', 'collective', 'scripts', 'sync_bn_rank.cjs');
const script = rankScript;
export const WORLD = 3;
export type Rec = Record<string, unknown>;
export type ByRank = Map<number, Rec[]>;

/** This process's environment without any engine's variables (the jest run may itself sit in a job). */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const engine = /^(RANK|WORLD_SIZE|LOCAL_RANK|LOCAL_WORLD_SIZE|MASTER_ADDR|MASTER_PORT|OMPI_|PMI_|PMIX_|MPI_LOCAL|SLURM_|TFJS_NORMS_)/;
  for (const [k, v] of Object.entries(process.env)) if (!engine.test(k)) env[k] = v;
  return {...env, TF_CPP_MIN_LOG_LEVEL: '2'};
}

/** The same job in this process: 3 worker-thread ranks of one thread group. */
export function threadRun(): Promise<ByRank> {
  const handle = createThreadGroup(WORLD, {timeoutMs: 60000});
  return Promise.all(Array.from({length: WORLD}, (_, rank) => new Promise<Rec[]>((resolve, reject) => {
    const recs: Rec[] = [];
    const w = new Worker(script, {workerData: {handle, rank}});
    w.on('message', (m: Rec) => { recs.push(m); if (m.done) void w.terminate(); });
    w.on('error', reject);
    w.on('exit', () => resolve(recs));
  }))).then((all) => new Map(all.map((recs, r) => [r, recs])));
}

export const parseLines = (text: string) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Rec);

/** Starts one plain process per rank, each with its own environment. */
export function runProcesses(envs: NodeJS.ProcessEnv[]): Promise<ByRank> {
  return Promise.all(envs.map((env, rank) => new Promise<Rec[]>((resolve, reject) => {
    const child = spawn(process.execPath, [script], {cwd: root, env, stdio: ['ignore', 'pipe', 'pipe']});
    let out = '', err = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.stderr.on('data', (d: Buffer) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`rank ${rank} exited with ${code ?? signal}: ${err}`));
      else resolve(parseLines(out));
    });
  }))).then((all) => new Map(all.map((recs, r) => [r, recs])));
}

const fixtureCases = new Map(loadFixtures('batch_norm').cases.map((c) => [c.name, c]));

/** Mismatches of `run` against the in-process run (bit for bit) and PyTorch (tolerance). */
export function check(run: ByRank, reference: ByRank, source: string): string[] {
  const bad: string[] = [];
  for (let rank = 0; rank < WORLD; rank++) {
    const got = run.get(rank) ?? [], want = reference.get(rank) ?? [];
    const done = got[got.length - 1];
    if (!done?.done) { bad.push(`rank ${rank} did not finish`); continue; }
    if (done.source !== source) bad.push(`rank ${rank}: source ${String(done.source)}, expected ${source}`);
    if (done.tensors !== 0) bad.push(`rank ${rank}: ${String(done.tensors)} tensors left`);
    if (got.length !== want.length || got.length < 20) bad.push(`rank ${rank}: ${got.length} records, expected ${want.length}`);
    got.slice(0, -1).forEach((rec, i) => {
      const ref = want[i];
      for (const k of ['case', 'start', 'size', 'count', 'y', 'dx', 'mean', 'variance', 'dgamma', 'dbeta']) {
        if (JSON.stringify(rec[k]) !== JSON.stringify(ref?.[k])) bad.push(`rank ${rank} ${String(rec.case)} ${k} differs from the in-process run`);
      }
      const c = fixtureCases.get(rec.case as string)!;
      const start = rec.start as number, size = rec.size as number;
      const tag = (s: string) => `rank ${rank} ${c.name} ${s}`;
      bad.push(...compare(tag('y'), rec.y as number[], sliceBatch(c.expected.y!, start, size)));
      bad.push(...compare(tag('dx'), rec.dx as number[], sliceBatch(c.expected.dx!, start, size)));
      bad.push(...compare(tag('mean'), rec.mean as number[], c.expected.mean as FixtureTensor));
      bad.push(...compare(tag('variance'), rec.variance as number[], c.expected.variance as FixtureTensor));
    });
  }
  return bad.slice(0, 20);
}
