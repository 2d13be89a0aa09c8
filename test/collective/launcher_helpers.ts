/** Runs the `tfjs-norms` launcher and reads what its ranks printed. */
import {execFile} from 'node:child_process';
import {join} from 'node:path';

const root = join(__dirname, '..', '..');

export function launcher(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120000):
    Promise<{code: number; stdout: string; stderr: string; ms: number}> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'bin', 'tfjs-norms.cjs'), ...args],
             {cwd: root, env: {...process.env, ...env}, timeout: timeoutMs, maxBuffer: 64 << 20},
             (error, stdout, stderr) => resolve({
               code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr, ms: Date.now() - t0,
             }));
  });
}

/** The JSON lines each rank printed, by rank. */
export function rankLines(stdout: string): Map<number, Array<Record<string, unknown>>> {
  const byRank = new Map<number, Array<Record<string, unknown>>>();
  for (const line of stdout.split('\n')) {
    const m = /^\[rank (\d+)\] (\{.*\})$/.exec(line);
    if (!m) continue;
    const r = Number(m[1]);
    if (!byRank.has(r)) byRank.set(r, []);
    byRank.get(r)!.push(JSON.parse(m[2]));
  }
  return byRank;
}

