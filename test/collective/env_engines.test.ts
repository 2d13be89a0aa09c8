/**
 * initFromEnv under the cluster engines' own variables, with real processes: 3 ranks of the
 * SyncBatchNorm job (test/collective/scripts/sync_bn_rank.cjs) started by a real `mpirun`
 * (Debian's openmpi-bin, installed by scripts/setup-debian.sh), and by plain processes given
 * MPICH's `PMI_*` or Slurm's `srun` variables. Every number must equal, bit for bit, the same
 * job run in this single process (3 thread ranks over shared memory): the engine and the TCP
 * transport change nothing. Both also match PyTorch's batch norm over the whole batch.
 * The token reaches the ranks through the environment only, never the command line.
 */
import {execFile, spawn} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {Worker} from 'node:worker_threads';
import {freePort} from '../../src/cli/launch.js';
import {createThreadGroup} from '../../src/collective/index.js';
import {compare, sliceBatch, type FixtureTensor} from '../support/fixtures.js';
import {loadFixtures} from '../support/load.js';

const root = join(__dirname, '..', '..');
const script = join(root, 'test', 'collective', 'scripts', 'sync_bn_rank.cjs');
const WORLD = 3;
type Rec = Record<string, unknown>;
type ByRank = Map<number, Rec[]>;

/** This process's environment without any engine's variables (the jest run may itself sit in a job). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const engine = /^(RANK|WORLD_SIZE|LOCAL_RANK|LOCAL_WORLD_SIZE|MASTER_ADDR|MASTER_PORT|OMPI_|PMI_|PMIX_|MPI_LOCAL|SLURM_|TFJS_NORMS_)/;
  for (const [k, v] of Object.entries(process.env)) if (!engine.test(k)) env[k] = v;
  return {...env, TF_CPP_MIN_LOG_LEVEL: '2'};
}

/** The same job in this process: 3 worker-thread ranks of one thread group. */
function threadRun(): Promise<ByRank> {
  const handle = createThreadGroup(WORLD, {timeoutMs: 60000});
  return Promise.all(Array.from({length: WORLD}, (_, rank) => new Promise<Rec[]>((resolve, reject) => {
    const recs: Rec[] = [];
    const w = new Worker(script, {workerData: {handle, rank}});
    w.on('message', (m: Rec) => { recs.push(m); if (m.done) void w.terminate(); });
    w.on('error', reject);
    w.on('exit', () => resolve(recs));
  }))).then((all) => new Map(all.map((recs, r) => [r, recs])));
}

const parseLines = (text: string) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Rec);

/** Starts one plain process per rank, each with its own environment. */
function runProcesses(envs: NodeJS.ProcessEnv[]): Promise<ByRank> {
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
function check(run: ByRank, reference: ByRank, source: string): string[] {
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

let reference: ByRank;
beforeAll(async () => { reference = await threadRun(); });

test('the in-process reference ran every case on every rank', () => {
  expect([...reference.keys()]).toEqual([0, 1, 2]);
  for (const recs of reference.values()) expect(recs.length).toBeGreaterThan(20);
});

test('mpirun (OpenMPI) -np 3: rank and world from OMPI_COMM_WORLD_*, same bits as in one process', async () => {
  const out = mkdtempSync(join(tmpdir(), 'tfjs-norms-mpirun-'));
  const token = randomBytes(16).toString('hex');
  const env = {...cleanEnv(), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(await freePort('127.0.0.1')), TFJS_NORMS_TOKEN: token};
  // Root (as in CI containers) needs --allow-run-as-root; more ranks than cores need --oversubscribe.
  const args = ['--allow-run-as-root', '--oversubscribe', '--output-filename', out, '-np', String(WORLD), process.execPath, script];
  expect(args.join(' ')).not.toContain(token);
  try {
    const res = await new Promise<{code: number; stderr: string}>((resolve) => {
      execFile('mpirun', args, {cwd: root, env, timeout: 90000, maxBuffer: 64 << 20}, (error, _stdout, stderr) => {
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
          resolve({code: -1, stderr: 'mpirun not found: scripts/setup-debian.sh installs openmpi-bin (npm test runs it)'});
        } else {
          resolve({code: error ? Number(error.code ?? 1) : 0, stderr});
        }
      });
    });
    expect(res).toEqual({code: 0, stderr: ''});
    // --output-filename writes each rank's stdout to <dir>/1/rank.<r>/stdout (no interleaving).
    const run: ByRank = new Map(Array.from({length: WORLD}, (_, r) =>
      [r, parseLines(readFileSync(join(out, '1', `rank.${r}`, 'stdout'), 'utf8'))]));
    expect(check(run, reference, 'openmpi')).toEqual([]);
  } finally {
    rmSync(out, {recursive: true, force: true});
  }
});

test('MPICH / Intel MPI variables (PMI_RANK, PMI_SIZE): same bits as in one process', async () => {
  const port = String(await freePort('127.0.0.1'));
  const token = randomBytes(16).toString('hex');
  const run = await runProcesses(Array.from({length: WORLD}, (_, r) => ({
    ...cleanEnv(), PMI_RANK: String(r), PMI_SIZE: String(WORLD), MPI_LOCALRANKID: String(r), MPI_LOCALNRANKS: String(WORLD),
    MASTER_PORT: port, TFJS_NORMS_TOKEN: token,
  })));
  expect(check(run, reference, 'pmi')).toEqual([]);
});

test('Slurm srun task variables, master from the first host of the step: same bits as in one process', async () => {
  const port = String(await freePort('127.0.0.1'));
  const token = randomBytes(16).toString('hex');
  const run = await runProcesses(Array.from({length: WORLD}, (_, r) => ({
    ...cleanEnv(), SLURM_JOB_ID: '7', SLURM_STEP_ID: '0', SLURM_PROCID: String(r), SLURM_NTASKS: String(WORLD),
    SLURM_LOCALID: String(r), SLURM_STEP_NODELIST: 'localhost,gpu[01-04]', SLURM_JOB_NODELIST: 'localhost,gpu[01-04]',
    MASTER_PORT: port, TFJS_NORMS_TOKEN: token,
  })));
  expect(check(run, reference, 'slurm')).toEqual([]);
});
