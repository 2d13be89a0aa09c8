/**
 * TCP ranks in worker threads (test/collective/workers/tcp_rank_worker.cjs): each joins a group
 * on loopback and runs its steps; `joined` resolves with the reply to joining, `replies` with
 * one reply per step once the thread ends (or is terminated after `limitMs`, so no test can
 * hang).
 */
import {createServer} from 'node:net';
import {Worker} from 'node:worker_threads';
import {join} from 'node:path';

/**
 * A free loopback port below the kernel's ephemeral range (32768–60999), so that the outgoing
 * connections of tests running in parallel cannot take it before rank 0 listens.
 */
export async function testPort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

export interface StepReply {op: string; ok: boolean; ms: number; sum?: number[]; float32?: boolean; error?: string}
export type Step = {op: 'allReduce'; data?: number[]; n?: number} | {op: 'allReduce32'; data: number[]} |
  {op: 'destroy' | 'exit'} |
  {op: 'sleep'; ms: number};

export interface RankOptions {
  rank: number; worldSize: number; masterPort: number; token: string;
  masterAddr?: string; timeoutMs?: number; maxMessageBytes?: number; handshakeTimeoutMs?: number;
  maxPendingConnections?: number; ringThresholdBytes?: number; ringChunkBytes?: number;
}

export function tcpRank(opts: RankOptions, steps: Step[], limitMs = 30000):
    {worker: Worker; joined: Promise<StepReply>; replies: Promise<StepReply[]>} {
  const worker = new Worker(join(__dirname, 'workers', 'tcp_rank_worker.cjs'), {
    workerData: {opts: {masterAddr: '127.0.0.1', timeoutMs: 10000, ...opts}, steps},
  });
  const replies: StepReply[] = [];
  let onJoined!: (m: StepReply) => void;
  const joined = new Promise<StepReply>((resolve) => { onJoined = resolve; });
  worker.on('message', (m: StepReply) => {
    if (replies.length === 0) onJoined(m);
    replies.push(m);
  });
  const done = new Promise<StepReply[]>((resolve, reject) => {
    const timer = setTimeout(() => void worker.terminate(), limitMs);
    worker.on('error', (e) => { clearTimeout(timer); reject(e); });
    worker.on('exit', () => { clearTimeout(timer); resolve(replies); });
  });
  return {worker, joined, replies: done};
}

/** Runs a group of `steps.length` ranks; resolves with every rank's replies. */
export function tcpGroup(port: number, token: string, steps: Step[][], opts: Partial<RankOptions> = {}):
    Promise<StepReply[][]> {
  return Promise.all(steps.map((s, rank) =>
    tcpRank({rank, worldSize: steps.length, masterPort: port, token, ...opts}, s).replies));
}
