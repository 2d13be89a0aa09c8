/**
 * `tfjs-norms run`: starts one Node process per rank with torch.distributed's variables, like
 * `torchrun`. Each output line is prefixed with its rank. If a rank fails, the others are
 * stopped (SIGTERM, then SIGKILL after the grace period) and the launcher exits with the code of
 * the rank that failed first. SIGINT, SIGTERM and SIGHUP sent to the launcher are forwarded to
 * the ranks, with the same escalation; the launcher then exits with 128 + the signal's number.
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {createServer} from 'node:net';
import {constants} from 'node:os';
import {createInterface} from 'node:readline';
import type {Readable} from 'node:stream';

export interface LaunchOptions {
  script: string;
  args: string[];
  nproc: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort?: number;
  timeoutMs?: number;
  /** How long ranks get to exit after SIGTERM (or a forwarded signal) before SIGKILL; default 5000. */
  graceMs?: number;
  /** Node options for each rank (e.g. ['--import', 'tsx']). */
  nodeArgs?: string[];
  /** Where prefixed lines go; defaults to the launcher's stdout/stderr. */
  out?: (line: string) => void;
  err?: (line: string) => void;
}

export const DEFAULT_GRACE_MS = 5000;
/** The signals the launcher forwards to its ranks. */
export const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** File descriptor on which each rank reports when it exits (see RANK_EXIT_HOOK). */
const EXIT_FD = 3;
/**
 * Loaded into each rank with `--import`: writes the exit code and the monotonic clock (shared by
 * every process of the host) to EXIT_FD as the rank exits. Ranks that fail because another one
 * failed exit within milliseconds of it, and the launcher may only see their exits together;
 * these times say which came first. Worker threads and the rank's own children do nothing.
 */
const RANK_EXIT_HOOK = 'data:text/javascript,' + encodeURIComponent(
    'import {writeSync} from "node:fs"; import {isMainThread} from "node:worker_threads";' +
    'const fd = Number(process.env.TFJS_NORMS_EXIT_FD); delete process.env.TFJS_NORMS_EXIT_FD;' +
    'if (isMainThread && fd > 2) process.on("exit", (code) => {' +
    '  try { writeSync(fd, `${code} ${process.hrtime.bigint()}\\n`); } catch { /* launcher gone */ } });');

/**
 * A port free on `host` right now, below the kernel's ephemeral range (32768–60999 on Linux), so
 * that the outgoing connections of other processes cannot take it before rank 0 listens: random
 * ports in [20000, 32768) are tried, then any port the OS picks.
 */
export async function freePort(host: string): Promise<number> {
  const tryPort = (port: number) => new Promise<number | null>((resolve, reject) => {
    const srv = createServer();
    srv.on('error', (e: NodeJS.ErrnoException) => (port !== 0 && (e.code === 'EADDRINUSE' || e.code === 'EACCES') ? resolve(null) : reject(e)));
    srv.listen(port, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
  for (let i = 0; i < 50; i++) {
    const port = await tryPort(20000 + Math.floor(Math.random() * 12768));
    if (port !== null) return port;
  }
  return (await tryPort(0))!;
}

/** How one rank ended. */
interface RankEnd {
  rank: number;
  /** Exit code for the launcher: the rank's code, or 128 + signal number when killed. */
  code: number;
  how: string;
  /** Monotonic time of the exit: reported by the rank, else when the launcher saw it. */
  at: bigint;
}

function signalCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/**
 * Collects what a rank writes to its exit pipe; `read(ms)`, called once the rank has exited,
 * waits at most `ms` for the pipe to close (a child of the rank may hold it) and returns the exit
 * time the rank reported, if any.
 */
function exitPipe(pipe: Readable | null): {read(ms: number): Promise<bigint | null>} {
  let text = '';
  const closed = new Promise<void>((resolve) => {
    if (!pipe) return resolve();
    pipe.setEncoding('utf8');
    pipe.on('data', (d: string) => { text += d; });
    pipe.on('close', () => resolve());
    pipe.on('error', () => resolve());
  });
  return {
    read: async (ms) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([closed, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); })]);
      clearTimeout(timer);
      const m = /^-?\d+ (\d+)$/m.exec(text);
      return m ? BigInt(m[1]) : null;
    },
  };
}

/** Runs the ranks of this node; resolves with the exit code for the launcher. */
export async function launch(o: LaunchOptions): Promise<number> {
  const out = o.out ?? ((l) => process.stdout.write(l + '\n'));
  const err = o.err ?? ((l) => process.stderr.write(l + '\n'));
  const graceMs = o.graceMs ?? DEFAULT_GRACE_MS;
  const worldSize = o.nproc * o.nnodes;
  let token = process.env.TFJS_NORMS_TOKEN;
  if (!token) {
    if (o.nnodes > 1) {
      throw new Error('multi-node runs need the same TFJS_NORMS_TOKEN exported on every node');
    }
    token = randomBytes(24).toString('hex');
  }
  let port = o.masterPort;
  if (port === undefined) {
    if (o.nnodes > 1) throw new Error('multi-node runs need --master-port');
    port = await freePort(o.masterAddr);
  }
  const children: ChildProcess[] = [];
  const live = () => children.filter((c) => c.exitCode === null && c.signalCode === null);
  let stopping = false;
  let killTimer: ReturnType<typeof setTimeout> | null = null;
  let received: NodeJS.Signals | null = null;

  /** Sends `signal` to every live rank, then SIGKILL to those still alive after the grace period. */
  const stopAll = (signal: NodeJS.Signals) => {
    for (const c of live()) c.kill(signal);
    if (stopping) return;
    stopping = true;
    killTimer = setTimeout(() => {
      const left = live();
      if (left.length > 0) {
        err(`[launcher] rank(s) ${left.map((c) => children.indexOf(c) + o.nodeRank * o.nproc).join(', ')} ` +
            `still running ${graceMs} ms after ${signal}: sending SIGKILL`);
      }
      for (const c of left) c.kill('SIGKILL');
    }, graceMs);
  };

  const ends = Array.from({length: o.nproc}, (_, local): Promise<RankEnd | null> => {
    const rank = o.nodeRank * o.nproc + local;
    const env: NodeJS.ProcessEnv = {
      ...process.env, RANK: String(rank), LOCAL_RANK: String(local), WORLD_SIZE: String(worldSize),
      LOCAL_WORLD_SIZE: String(o.nproc), MASTER_ADDR: o.masterAddr, MASTER_PORT: String(port),
      TFJS_NORMS_TOKEN: token, TFJS_NORMS_EXIT_FD: String(EXIT_FD),
    };
    if (o.timeoutMs !== undefined) env.TFJS_NORMS_TIMEOUT_MS = String(o.timeoutMs);
    const child = spawn(process.execPath, ['--import', RANK_EXIT_HOOK, ...(o.nodeArgs ?? []), o.script, ...o.args],
                        {env, stdio: ['ignore', 'pipe', 'pipe', 'pipe']});
    children.push(child);
    createInterface({input: child.stdout!}).on('line', (l) => out(`[rank ${rank}] ${l}`));
    createInterface({input: child.stderr!}).on('line', (l) => err(`[rank ${rank}] ${l}`));
    const reported = exitPipe(child.stdio[EXIT_FD] as Readable | null);
    return new Promise((resolve) => {
      child.on('error', (e) => {
        err(`[launcher] rank ${rank} could not start: ${e.message}`);
        if (!stopping) stopAll('SIGTERM');
        resolve({rank, code: 1, how: 'could not start', at: process.hrtime.bigint()});
      });
      child.on('exit', (code, signal) => {
        const seen = process.hrtime.bigint();
        if (code === 0) {
          resolve(null);
          return;
        }
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        if (!stopping) {
          err(`[launcher] rank ${rank} ${how}; stopping the other ranks`);
          stopAll('SIGTERM');
        } else {
          err(`[launcher] rank ${rank} ${how}`);
        }
        const exitCode = signal ? signalCode(signal) : code ?? 1;
        void reported.read(1000).then((at) => resolve({rank, code: exitCode, how, at: signal ? seen : at ?? seen}));
      });
    });
  });

  const onSignal = (sig: NodeJS.Signals) => {
    if (received !== null) {
      // A second signal: do not wait for the grace period.
      err(`[launcher] ${sig} again: sending SIGKILL to every rank`);
      for (const c of live()) c.kill('SIGKILL');
      return;
    }
    received = sig;
    err(`[launcher] ${sig}: forwarding it to the ranks (SIGKILL after ${graceMs} ms)`);
    stopAll(sig);
  };
  for (const s of FORWARDED_SIGNALS) process.on(s, onSignal);
  let results: Array<RankEnd | null>;
  try {
    results = await Promise.all(ends);
  } finally {
    for (const s of FORWARDED_SIGNALS) process.off(s, onSignal);
    if (killTimer) clearTimeout(killTimer);
  }
  if (received !== null) return signalCode(received);
  const failed = results.filter((r): r is RankEnd => r !== null);
  if (failed.length === 0) return 0;
  const first = failed.reduce((a, b) => (b.at < a.at ? b : a));
  if (failed.length > 1) err(`[launcher] rank ${first.rank} failed first (it ${first.how})`);
  return first.code;
}
