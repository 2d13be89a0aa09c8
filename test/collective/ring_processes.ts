/** Starts the ranks of test/collective/scripts/ring_rank.cjs as processes on loopback. */
import {spawn, type ChildProcess} from 'node:child_process';
import {join} from 'node:path';

const root = join(__dirname, '..', '..');

export type Line = Record<string, unknown>;

export interface RankProcess {
  child: ChildProcess;
  /** Every JSON line so far. */
  lines: Line[];
  /** Resolves when the first line matching `pred` is printed (or null when the process ends first). */
  line(pred: (l: Line) => boolean): Promise<Line | null>;
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null; stderr: string}>;
}

/** Starts one rank with the job's environment plus `env`; killed after `limitMs` so nothing hangs. */
export function ringRank(rank: number, world: number, port: number, ops: object[], opts: object = {},
                         env: Record<string, string> = {}, limitMs = 60000): RankProcess {
  const child = spawn(process.execPath, [join(root, 'test/collective/scripts/ring_rank.cjs'), JSON.stringify(ops), JSON.stringify(opts)], {
    cwd: root,
    env: {...process.env, RANK: String(rank), WORLD_SIZE: String(world), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port),
          TFJS_NORMS_TOKEN: 'ring-token', TFJS_NORMS_TIMEOUT_MS: '20000', ...env},
  });
  const lines: Line[] = [];
  const waiters: Array<{pred: (l: Line) => boolean; resolve: (l: Line | null) => void}> = [];
  let buf = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const l = JSON.parse(buf.slice(0, i)) as Line;
      buf = buf.slice(i + 1);
      lines.push(l);
      for (const w of waiters.filter((x) => x.pred(l))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null; stderr: string}>((resolve) => child.on('exit', (code, signal) => {
    clearTimeout(timer);
    for (const w of waiters.splice(0)) w.resolve(null);
    resolve({code, signal, stderr});
  }));
  return {
    child, lines, exited,
    line: (pred) => {
      const seen = lines.find(pred);
      if (seen) return Promise.resolve(seen);
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(null);
      return new Promise((resolve) => waiters.push({pred, resolve}));
    },
  };
}

/** Runs a whole group; resolves with every rank's lines once all have exited. */
export async function ringGroup(world: number, port: number, ops: object[], opts: object = {},
                                env: Record<string, string> = {}): Promise<Line[][]> {
  const ranks = Array.from({length: world}, (_, r) => ringRank(r, world, port, ops, opts, env));
  await Promise.all(ranks.map((r) => r.exited));
  return ranks.map((r) => r.lines);
}
