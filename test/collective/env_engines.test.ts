/**
 * initFromEnv under the cluster engines' own variables, with real processes: 3 ranks of the
 * SyncBatchNorm job (test/collective/scripts/sync_bn_rank.cjs) started by a real `mpirun`
 * (Debian's openmpi-bin, installed by scripts/setup-debian.sh), and by plain processes given
 * MPICH's `PMI_*` or Slurm's `srun` variables. Every number must equal, bit for bit, the same
 * job run in this single process (3 thread ranks over shared memory): the engine and the TCP
 * transport change nothing. Both also match PyTorch's batch norm over the whole batch.
 * The token reaches the ranks through the environment only, never the command line.
 */
import {execFile} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {freePort} from '../../src/cli/launch.js';
import {check, cleanEnv, parseLines, rankScript as script, runProcesses, threadRun, WORLD, type ByRank} from './engine_helpers.js';

const root = join(__dirname, '..', '..');

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
  // -x NAME forwards the value from mpirun's environment, as docs/distributed.md's two-host line.
  const args = ['--allow-run-as-root', '--oversubscribe', '--output-filename', out, '-np', String(WORLD),
                '--host', `localhost:${WORLD}`, '-x', 'TFJS_NORMS_TOKEN', '-x', 'MASTER_ADDR', '-x', 'MASTER_PORT',
                process.execPath, script];
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
