/** Starts a thread group of worker ranks (test/collective/workers/rank_worker.cjs). */
import {SHARE_ENV, Worker} from 'node:worker_threads';
import {join} from 'node:path';
import {createThreadGroup} from '../../src/collective/index.js';

export interface RankReply {ok: boolean; rank: number; ms: number; error?: string; [k: string]: unknown}

export class ThreadRanks {
  readonly workers: Worker[];
  private readonly ready: Promise<unknown>;

  /**
   * `backend`: what the ranks run on, 'cpu' (default) or 'tensorflow' (each rank loads
   * @tensorflow/tfjs-node and tfjs-norms/node; every reply says which backend it used).
   */
  constructor(readonly worldSize: number,
              opts: {timeoutMs?: number; maxElements?: number; backend?: 'cpu' | 'tensorflow'} = {}) {
    const {backend = 'cpu', ...groupOpts} = opts;
    const handle = createThreadGroup(worldSize, groupOpts);
    const script = join(__dirname, 'workers', 'rank_worker.cjs');
    this.workers = Array.from({length: worldSize}, (_, rank) => new Worker(script, {
      workerData: {handle, rank, backend},
      // TensorFlow reads its log level from the process's own environment: a rank that shares
      // it can turn TensorFlow's INFO lines off (a worker's default process.env is a copy).
      ...(backend === 'tensorflow' ? {env: SHARE_ENV} : {}),
    }));
    this.ready = Promise.all(this.workers.map((w) => this.next(w)));
  }

  private next(w: Worker): Promise<RankReply> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: RankReply) => { cleanup(); resolve(m); };
      const onError = (e: Error) => { cleanup(); reject(e); };
      const onExit = (code: number) => { cleanup(); resolve({ok: false, rank: -1, ms: 0, error: `exited ${code}`}); };
      const cleanup = () => { w.off('message', onMessage); w.off('error', onError); w.off('exit', onExit); };
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
    });
  }

  /** Sends `msgs[rank]` to each rank (or one message to all) and waits for every reply. */
  async run(msgs: object | object[]): Promise<RankReply[]> {
    await this.ready;
    return Promise.all(this.workers.map((w, r) => {
      const reply = this.next(w);
      w.postMessage(Array.isArray(msgs) ? msgs[r] : msgs);
      return reply;
    }));
  }

  async terminate(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
