/**
 * A real one-node Slurm (Debian's munge, slurmctld, slurmd, started here with their own key,
 * sockets, ports and state in a temporary folder; scripts/setup-debian.sh installs them) runs
 * the `sbatch` script of docs/distributed.md unchanged, with only the node and task counts
 * overridden on sbatch's command line and a SyncBatchNorm job as `train.js`. The 3 `srun`
 * tasks find their rank in Slurm's variables and rank 0's address in the step's host list;
 * every number equals the same job in this single process, bit for bit.
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {cpus, hostname, tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {freePort} from '../../src/cli/launch.js';
import {checkedBlocks} from './doc_blocks.js';
import {check, cleanEnv, parseLines, rankScript, threadRun, WORLD, type ByRank} from './engine_helpers.js';

const TOOLS = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'sinfo'];
const daemons: ChildProcess[] = [];
let dir: string;
let env: NodeJS.ProcessEnv;
let reference: ByRank;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const logs = () => ['munged.log', 'slurmctld.log', 'slurmd.log']
  .map((f) => (existsSync(join(dir, f)) ? `--- ${f}\n${readFileSync(join(dir, f), 'utf8').split('\n').slice(-15).join('\n')}` : ''))
  .join('\n');

function start(cmd: string, args: string[]): void {
  const child = spawn(cmd, args, {env, stdio: 'ignore'});
  child.on('error', () => undefined); // reported by the readiness checks below
  daemons.push(child);
}

async function until(what: string, ok: () => boolean, ms = 30000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(200)) if (ok()) return;
  throw new Error(`one-node Slurm: ${what} within ${ms} ms\n${logs()}`);
}

beforeAll(async () => {
  const missing = TOOLS.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length) {
    throw new Error(`missing ${missing.join(', ')}: scripts/setup-debian.sh installs slurmctld, slurmd, slurm-client and munge`);
  }
  if (process.getuid?.() !== 0) throw new Error('the one-node Slurm test runs its daemons as root (as CI does)');
  reference = await threadRun();
  dir = mkdtempSync(join(tmpdir(), 'tfjs-norms-slurm-'));
  const node = hostname().split('.')[0];
  const [ctldPort, slurmdPort] = [await freePort('127.0.0.1'), await freePort('127.0.0.1')];
  for (const d of ['state', 'spool']) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'munge.key'), randomBytes(1024), {mode: 0o600});
  const conf = join(dir, 'slurm.conf');
  writeFileSync(conf, [
    'ClusterName=tfjsnorms', `SlurmctldHost=${node}(127.0.0.1)`, `SlurmctldPort=${ctldPort}`, `SlurmdPort=${slurmdPort}`,
    'AuthType=auth/munge', 'CredType=cred/munge', `AuthInfo=socket=${join(dir, 'munge.sock')}`,
    'SlurmUser=root', 'SlurmdUser=root', `StateSaveLocation=${join(dir, 'state')}`, `SlurmdSpoolDir=${join(dir, 'spool')}`,
    `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`, `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
    `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`, `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
    `PlugStackConfig=${join(dir, 'plugstack.conf')}`, 'ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none',
    'MpiDefault=none', 'JobAcctGatherType=jobacct_gather/none', 'AccountingStorageType=accounting_storage/none',
    'SelectType=select/cons_tres', 'SelectTypeParameters=CR_Core', 'ReturnToService=2',
    // The node as configured, not as probed: the test machine may have fewer cores than ranks.
    'SlurmdParameters=config_overrides',
    `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${Math.max(cpus().length, 2 * WORLD)} State=UNKNOWN`,
    'PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES',
  ].join('\n') + '\n');
  writeFileSync(join(dir, 'plugstack.conf'), '');
  chmodSync(dir, 0o700);
  env = {...cleanEnv(), SLURM_CONF: conf, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`};

  start('munged', ['--foreground', '--force', `--socket=${join(dir, 'munge.sock')}`, `--key-file=${join(dir, 'munge.key')}`,
                   `--pid-file=${join(dir, 'munged.pid')}`, `--log-file=${join(dir, 'munged.log')}`,
                   `--seed-file=${join(dir, 'munged.seed')}`]);
  await until('munged did not open its socket', () => existsSync(join(dir, 'munge.sock')));
  start('slurmctld', ['-D', '-c', '-f', conf]);
  start('slurmd', ['-D', '-N', node, '-f', conf]);
  await until('the node did not become idle', () => {
    const r = spawnSync('sinfo', ['-h', '-o', '%t'], {env, encoding: 'utf8'});
    return r.status === 0 && r.stdout.trim() === 'idle';
  });
}, 90000);

afterAll(async () => {
  for (const d of daemons.reverse()) d.kill('SIGTERM');
  await Promise.all(daemons.map((d) => (d.exitCode !== null || d.signalCode !== null ? null : new Promise((resolve) => {
    const t = setTimeout(() => d.kill('SIGKILL'), 5000);
    d.on('exit', () => { clearTimeout(t); resolve(null); });
  }))));
  if (dir) rmSync(dir, {recursive: true, force: true});
});

test("docs/distributed.md's sbatch script: 3 srun tasks, same bits as in one process", async () => {
  const script = join(dir, 'train.sbatch');
  writeFileSync(script, checkedBlocks().get('slurm-sbatch')!);
  // The rank job as train.js; each rank writes its records to its own file (srun merges stdout).
  writeFileSync(join(dir, 'train.js'), [
    "const {appendFileSync} = require('node:fs');",
    'const out = `${__dirname}/rank-${process.env.SLURM_PROCID}.jsonl`;',
    "console.log = (line) => appendFileSync(out, line + '\\n');",
    `require(${JSON.stringify(rankScript)});`,
  ].join('\n') + '\n');
  // The documented script with one node's worth of tasks.
  const args = ['--wait', '--nodes=1', `--ntasks-per-node=${WORLD}`, '--cpus-per-task=1',
                `--chdir=${dir}`, `--output=${join(dir, 'job.out')}`, script];
  const res = await new Promise<{code: number | null; out: string}>((resolve) => {
    const child = spawn('sbatch', args, {env, stdio: ['ignore', 'pipe', 'pipe']});
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.stderr.on('data', (d: Buffer) => { out += d; });
    const t = setTimeout(() => child.kill('SIGKILL'), 100000);
    child.on('exit', (code) => { clearTimeout(t); resolve({code, out}); });
  });
  const jobOut = existsSync(join(dir, 'job.out')) ? readFileSync(join(dir, 'job.out'), 'utf8') : '(no job output)';
  expect({code: res.code, sbatch: res.out.replace(/^Submitted batch job \d+\n/, ''), job: jobOut})
    .toEqual({code: 0, sbatch: '', job: ''});
  const run: ByRank = new Map(Array.from({length: WORLD}, (_, r) =>
    [r, parseLines(readFileSync(join(dir, `rank-${r}.jsonl`), 'utf8'))]));
  expect(check(run, reference, 'slurm')).toEqual([]);
}, 120000);
