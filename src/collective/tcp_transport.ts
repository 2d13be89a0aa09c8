/**
 * The TCP transport for processes on one or many hosts, configured like torch.distributed
 * (`MASTER_ADDR`, `MASTER_PORT`, `RANK`, `WORLD_SIZE`, plus the shared token in
 * `TFJS_NORMS_TOKEN`). A helper worker thread owns the sockets (tcp_worker.ts); the compute
 * thread hands it each array through shared memory and blocks in `Atomics.wait` until the
 * result or an error is there.
 */
import type {Worker} from 'node:worker_threads';
import {CollectiveGroup, init} from './group.js';
import {rendezvousFromEnv} from './env.js';
import {MAILBOX, tcpWorkerMain, type TcpWorkerData} from './tcp_worker.js';
import {nodeBuiltin} from './node_builtin.js';
import {CollectiveError, SingleProcessTransport, type CollectiveTransport} from './transport.js';

export interface TcpOptions {
  rank: number;
  worldSize: number;
  masterAddr: string;
  masterPort: number;
  /** Shared secret every rank presents to rank 0. */
  token: string;
  /** Rendezvous and per-collective timeout. Default 60000. */
  timeoutMs?: number;
  /** Largest array (in bytes of float64) one all-reduce may carry. Default 64 MiB. */
  maxMessageBytes?: number;
}

export class TcpTransport implements CollectiveTransport {
  readonly rank: number;
  readonly worldSize: number;
  private readonly ctl: Int32Array;
  private readonly data: Float64Array;
  private readonly message: Uint8Array;
  private readonly worker: Worker;
  private readonly timeoutMs: number;
  private readonly maxMessageBytes: number;
  private closed = false;

  constructor(opts: TcpOptions) {
    this.rank = opts.rank;
    this.worldSize = opts.worldSize;
    this.timeoutMs = opts.timeoutMs ?? 60000;
    this.maxMessageBytes = opts.maxMessageBytes ?? 64 * 1024 * 1024;
    const mailbox = new SharedArrayBuffer(MAILBOX.DATA_OFFSET + this.maxMessageBytes);
    this.ctl = new Int32Array(mailbox, 0, 4);
    this.data = new Float64Array(mailbox, MAILBOX.DATA_OFFSET);
    this.message = new Uint8Array(mailbox, MAILBOX.MESSAGE_OFFSET, MAILBOX.MESSAGE_BYTES);
    const workerData: TcpWorkerData = {
      rank: opts.rank, worldSize: opts.worldSize, masterAddr: opts.masterAddr,
      masterPort: opts.masterPort, token: opts.token, timeoutMs: this.timeoutMs,
      maxMessageBytes: this.maxMessageBytes, mailbox,
    };
    // Started from source so that the same code serves the ESM and CommonJS builds; the shim
    // stands in for the name-keeping helper some transpilers insert.
    const code = `const __name = (f) => f;\n(${tcpWorkerMain.toString()})();`;
    const {Worker: WorkerClass} = nodeBuiltin<typeof import('node:worker_threads')>('node:worker_threads', 'the TCP transport');
    this.worker = new WorkerClass(code, {eval: true, workerData});
    this.worker.unref();
    this.worker.on('error', (e) => this.fail(`the network thread crashed: ${e.message}`));
    this.waitWhile(MAILBOX.CONNECTING, this.timeoutMs + 2000, 'the rendezvous');
  }

  allReduceSum(data: Float64Array): Float64Array {
    if (this.closed) throw new CollectiveError(`rank ${this.rank}: allReduceSum on a closed transport`);
    this.throwIfFailed();
    if (data.byteLength > this.maxMessageBytes) {
      throw new CollectiveError(`all-reduce of ${data.byteLength} bytes exceeds maxMessageBytes ` +
        `(${this.maxMessageBytes}; set TFJS_NORMS_MAX_MESSAGE_BYTES on every rank)`);
    }
    this.data.set(data);
    Atomics.store(this.ctl, MAILBOX.LENGTH, data.length);
    // READY -> BUSY unless the network thread has just marked the group failed.
    if (Atomics.compareExchange(this.ctl, MAILBOX.STATE, MAILBOX.READY, MAILBOX.BUSY) !== MAILBOX.READY) {
      this.throwIfFailed();
      throw new CollectiveError(`rank ${this.rank}: the transport is not ready`);
    }
    Atomics.add(this.ctl, MAILBOX.REQUESTS, 1);
    Atomics.notify(this.ctl, MAILBOX.REQUESTS);
    this.waitWhile(MAILBOX.BUSY, this.timeoutMs + 2000, 'an all-reduce');
    const out = Float64Array.from(this.data.subarray(0, data.length));
    Atomics.store(this.ctl, MAILBOX.STATE, MAILBOX.READY);
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ctl, MAILBOX.REQUESTS, -1);
    Atomics.notify(this.ctl, MAILBOX.REQUESTS);
  }

  /** Blocks while the mailbox is in `state`; throws on failure or after `ms`. */
  private waitWhile(state: number, ms: number, what: string): void {
    const deadline = Date.now() + ms;
    for (let spin = 0; spin < 2000 && Atomics.load(this.ctl, MAILBOX.STATE) === state; spin++) { /* spin */ }
    while (Atomics.load(this.ctl, MAILBOX.STATE) === state) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) this.fail(`rank ${this.rank}: timed out after ${ms} ms in ${what}`);
      Atomics.wait(this.ctl, MAILBOX.STATE, state, remaining);
    }
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (Atomics.load(this.ctl, MAILBOX.STATE) !== MAILBOX.FAILED) return;
    const len = Atomics.load(this.ctl, MAILBOX.MESSAGE_LENGTH);
    throw new CollectiveError(`the collective group failed: ${new TextDecoder().decode(this.message.slice(0, len))}`);
  }

  private fail(message: string): never {
    this.close();
    throw new CollectiveError(message);
  }
}

export interface InitFromEnvOptions {
  timeoutMs?: number;
  /** Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
}

/**
 * Joins the TCP group described by the environment (as torch.distributed's `env://`), whichever
 * engine started the process: rank and world size from torchrun/Kubeflow (`RANK`, `WORLD_SIZE`),
 * OpenMPI, MPICH/Intel MPI or Slurm's srun (see `rendezvousFromEnv` and docs/distributed.md),
 * plus `MASTER_ADDR`, `MASTER_PORT`, `TFJS_NORMS_TOKEN` (required when the world has more than
 * one rank), `TFJS_NORMS_TIMEOUT_MS` and `TFJS_NORMS_MAX_MESSAGE_BYTES`. Bad values fail at once.
 * Blocks until every rank has joined; sets the group as the default and returns it.
 */
export function initFromEnv(opts: InitFromEnvOptions = {}): CollectiveGroup {
  const r = rendezvousFromEnv(opts.env ?? process.env, {timeoutMs: opts.timeoutMs, caller: 'initFromEnv'});
  if (r.worldSize === 1) return init(new SingleProcessTransport());
  const transport = new TcpTransport({
    rank: r.rank, worldSize: r.worldSize, token: r.token, timeoutMs: r.timeoutMs, maxMessageBytes: r.maxMessageBytes,
    masterAddr: r.masterAddr, masterPort: r.masterPort,
  });
  return init(transport);
}
