/**
 * The launcher's signal handling: SIGINT/SIGTERM/SIGHUP are forwarded to the ranks, a rank that
 * ignores them is killed after --grace-ms, the launcher exits with 128 + the signal number, and
 * when ranks fail it names the rank that failed first. Every rank started here is killed at the
 * end of its test, whatever happened.
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';

const root = join(__dirname, '..', '..');
const script = 'test/collective/scripts/signal_rank.cjs';

interface Run {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{code: number | null; signal: NodeJS.Signals | null; ms: number}>;
  /** Rank pids, once every rank has printed its own. */
  pids: Promise<number[]>;
}

const started: number[] = [];
const launchers: ChildProcess[] = [];

function run(nproc: number, args: string[]): Run {
  const proc = spawn(process.execPath, [join(root, 'bin', 'tfjs-norms.cjs'), 'run', '--nproc', String(nproc), ...args],
                     {cwd: root, stdio: ['ignore', 'pipe', 'pipe']});
  launchers.push(proc);
  let out = '';
  let errText = '';
  let t0 = 0;
  const pids = new Promise<number[]>((resolve) => {
    proc.stdout!.on('data', (d) => {
      out += d;
      const found = [...out.matchAll(/^\[rank (\d+)\] \{"pid":(\d+)\}$/gm)].map((m) => Number(m[2]));
      if (found.length === nproc) {
        started.push(...found);
        t0 = Date.now();
        resolve(found);
      }
    });
  });
  proc.stderr!.on('data', (d) => { errText += d; });
  const exit = new Promise<{code: number | null; signal: NodeJS.Signals | null; ms: number}>((resolve) => {
    proc.on('exit', (code, signal) => resolve({code, signal, ms: Date.now() - t0}));
  });
  return {proc, stdout: () => out, stderr: () => errText, exit, pids};
}

/** True while `pid` runs (a zombie, dead but not yet reaped by its stopped parent, is not running). */
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** Polls until none of `pids` is alive, at most `ms`; returns those still alive. */
async function gone(pids: number[], ms: number): Promise<number[]> {
  const end = Date.now() + ms;
  while (Date.now() < end && pids.some(alive)) await new Promise((r) => setTimeout(r, 50));
  return pids.filter(alive);
}

/** Resolves with the launcher's exit, or null if it has not exited within `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const r = await Promise.race([p, new Promise<null>((res) => { timer = setTimeout(() => res(null), ms); })]);
  clearTimeout(timer);
  return r;
}

afterEach(() => {
  // Launchers and ranks a failed test left behind (all started by this suite).
  for (const p of launchers.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const pid of started.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

test.each([
  ['SIGHUP', 129],
  ['SIGTERM', 143],
  ['SIGINT', 130],
] as const)('%s is forwarded to every rank and the launcher exits with %i', async (signal, code) => {
  const r = run(2, [script, 'wait']);
  const pids = await r.pids;
  r.proc.kill(signal);
  const exit = await within(r.exit, 10000);
  expect(await gone(pids, 5000)).toEqual([]);
  expect(exit).toMatchObject({code, signal: null});
  expect(r.stderr()).toContain(`[launcher] ${signal}: forwarding it to the ranks`);
}, 30000);

test('a rank that ignores SIGTERM is killed after --grace-ms', async () => {
  const r = run(2, ['--grace-ms', '1000', script, 'ignore-term']);
  const pids = await r.pids;
  r.proc.kill('SIGTERM');
  const exit = await within(r.exit, 10000);
  expect(exit).toMatchObject({code: 143});
  expect(exit!.ms).toBeGreaterThanOrEqual(900);
  expect(exit!.ms).toBeLessThan(6000);
  expect(await gone(pids, 2000)).toEqual([]);
  expect(r.stdout()).toMatch(/\[rank 0\] \{"ignored":"SIGTERM"\}/);
  expect(r.stderr()).toMatch(/rank\(s\) 0, 1 still running 1000 ms after SIGTERM: sending SIGKILL/);
}, 30000);

test('a second signal kills the ranks at once', async () => {
  const r = run(2, ['--grace-ms', '60000', script, 'ignore-term']);
  const pids = await r.pids;
  r.proc.kill('SIGTERM');
  await new Promise((res) => setTimeout(res, 300));
  r.proc.kill('SIGINT');
  const exit = await within(r.exit, 10000);
  expect(exit).toMatchObject({code: 143});
  expect(exit!.ms).toBeLessThan(5000);
  expect(await gone(pids, 2000)).toEqual([]);
}, 30000);

test('the rank that failed first is reported with its exit code, even when the launcher sees every exit at once', async () => {
  const r = run(3, [script, 'usr1']);
  const pids = await r.pids;
  // Stop the launcher so that it sees all three exits only after they have all happened.
  r.proc.kill('SIGSTOP');
  for (const pid of pids) process.kill(pid, 'SIGUSR1');
  const left = await gone(pids, 5000);
  r.proc.kill('SIGCONT');
  expect(left).toEqual([]);
  const exit = await within(r.exit, 10000);
  expect(exit).toMatchObject({code: 7});
  expect(r.stderr()).toMatch(/\[launcher\] rank 1 failed first \(it exited with code 7\)/);
}, 30000);
