/**
 * `tfjs-norms run`: starts one Node process per rank with torch.distributed's variables, like
 * `torchrun`. Each output line is prefixed with its rank; if a rank fails, the others are
 * stopped and the launcher exits non-zero.
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {createServer} from 'node:net';
import {createInterface} from 'node:readline';

export interface LaunchOptions {
  script: string;
  args: string[];
  nproc: number;
  nnodes: number;
  nodeRank: number;
  masterAddr: string;
  masterPort?: number;
  timeoutMs?: number;
  /** Node options for each rank (e.g. ['--import', 'tsx']). */
  nodeArgs?: string[];
  /** Where prefixed lines go; defaults to the launcher's stdout/stderr. */
  out?: (line: string) => void;
  err?: (line: string) => void;
}

/** A port the OS reports free on `host` right now. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Runs the ranks of this node; resolves with the exit code for the launcher. */
export async function launch(o: LaunchOptions): Promise<number> {
  const out = o.out ?? ((l) => process.stdout.write(l + '\n'));
  const err = o.err ?? ((l) => process.stderr.write(l + '\n'));
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
  let failure: {rank: number; code: number} | null = null;
  let killTimer: ReturnType<typeof setTimeout> | null = null;

  const stopOthers = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    killTimer = setTimeout(() => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }, 3000);
    killTimer.unref();
  };

  const exits = Array.from({length: o.nproc}, (_, local) => {
    const rank = o.nodeRank * o.nproc + local;
    const env: NodeJS.ProcessEnv = {
      ...process.env, RANK: String(rank), LOCAL_RANK: String(local), WORLD_SIZE: String(worldSize),
      LOCAL_WORLD_SIZE: String(o.nproc), MASTER_ADDR: o.masterAddr, MASTER_PORT: String(port),
      TFJS_NORMS_TOKEN: token,
    };
    if (o.timeoutMs !== undefined) env.TFJS_NORMS_TIMEOUT_MS = String(o.timeoutMs);
    const child = spawn(process.execPath, [...(o.nodeArgs ?? []), o.script, ...o.args],
                        {env, stdio: ['ignore', 'pipe', 'pipe']});
    children.push(child);
    createInterface({input: child.stdout!}).on('line', (l) => out(`[rank ${rank}] ${l}`));
    createInterface({input: child.stderr!}).on('line', (l) => err(`[rank ${rank}] ${l}`));
    return new Promise<void>((resolve) => {
      child.on('error', (e) => {
        err(`[launcher] rank ${rank} could not start: ${e.message}`);
        if (!failure) { failure = {rank, code: 1}; stopOthers(); }
        resolve();
      });
      child.on('exit', (code, signal) => {
        if (code !== 0 || signal) {
          const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
          if (!failure) {
            failure = {rank, code: code || 1};
            err(`[launcher] rank ${rank} ${how}; stopping the other ranks`);
            stopOthers();
          } else {
            err(`[launcher] rank ${rank} ${how}`);
          }
        }
        resolve();
      });
    });
  });
  const onSignal = (sig: NodeJS.Signals) => {
    if (!failure) failure = {rank: -1, code: 130};
    for (const c of children) c.kill(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  await Promise.all(exits);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (killTimer) clearTimeout(killTimer);
  const f = failure as {rank: number; code: number} | null;
  return f ? f.code : 0;
}
