/**
 * The TCP transport for processes on one or many hosts, configured like torch.distributed
 * (`MASTER_ADDR`, `MASTER_PORT`, `RANK`, `WORLD_SIZE`, plus the shared token in
 * `TFJS_NORMS_TOKEN`). A helper worker thread owns the sockets (tcp_worker.ts); the compute
 * thread hands it each array through shared memory (tcp_mailbox.ts) and blocks in
 * `Atomics.wait` until the result or an error is there. Ranks authenticate each other without
 * sending the token, and every frame is sealed to its connection (tcp_protocol.ts).
 */
import type {Worker} from 'node:worker_threads';
import {CollectiveGroup, init} from './group.js';
import {rendezvousFromEnv} from './env.js';
import {tcpMailbox, type TcpMailbox} from './tcp_mailbox.js';
import {tcpProtocol} from './tcp_protocol.js';
import {tcpWorkerMain, type TcpWorkerData} from './tcp_worker.js';
import {tcpRing} from './tcp_ring.js';
import {ringPlan} from './ring_plan.js';
import {nodeBuiltin} from './node_builtin.js';
import {CollectiveError, SingleProcessTransport, type CollectiveTransport, type PendingAllReduce} from './transport.js';

export interface TcpOptions {
  rank: number;
  worldSize: number;
  masterAddr: string;
  masterPort: number;
  /** Shared secret of every rank; it never travels on the wire. */
  token: string;
  /** Rendezvous and per-collective timeout. Default 60000. */
  timeoutMs?: number;
  /** Largest array (in bytes) one all-reduce may carry. Default 64 MiB. */
  maxMessageBytes?: number;
  /** How long a connection may take to authenticate. Default min(5000, timeoutMs). */
  handshakeTimeoutMs?: number;
  /** Rank 0: most connections mid-handshake at once (the oldest is dropped). Default max(64, 2·worldSize). */
  maxPendingConnections?: number;
  /**
   * Rank 0's value applies to every rank: all-reduces of at least this many bytes go round the
   * ring (reduce-scatter + all-gather between neighbours), smaller ones through rank 0 (the
   * star, lowest latency). Default 262144 (256 KiB); -1: never the ring.
   */
  ringThresholdBytes?: number;
  /** Port this rank's ring listener binds (on the address it reaches rank 0 from; rank 0: masterAddr). Default 0: any free port. */
  ringPort?: number;
  /** Rank 0's value applies to every rank: most bytes of values in one ring frame. Default 1 MiB. */
  ringChunkBytes?: number;
  /**
   * Rank 0's value applies to every rank: encrypt ring frames (AES-256-GCM, as the star's)
   * instead of only authenticating them (AES-GMAC: tampering, forgery and replay are caught,
   * but the values travel in clear). Default false: encryption costs several times the CPU of
   * the MAC, which bounds the ring's bandwidth (docs/distributed.md).
   */
  ringEncrypt?: boolean;
}

/** All-reduces of at least this many bytes go round the ring by default. */
export const DEFAULT_RING_THRESHOLD_BYTES = 256 * 1024;
const DEFAULT_RING_CHUNK_BYTES = 1024 * 1024;

function checkInt(name: string, v: number, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new CollectiveError(`TcpTransport: ${name} must be an integer in [${lo}, ${hi}], got ${v}`);
  return v;
}

/** How much longer the compute thread waits than the network thread, whose errors say more. */
const GRACE_MS = 2000;

export class TcpTransport implements CollectiveTransport {
  readonly rank: number;
  readonly worldSize: number;
  private readonly box: TcpMailbox;
  private readonly worker: Worker;
  private readonly timeoutMs: number;
  private readonly maxMessageBytes: number;
  private seq = 0;
  private closed = false;
  /** A started all-reduce the compute thread has not waited for yet. */
  private pending: {seq: number; length: number; area: Float64Array | Float32Array} | null = null;

  constructor(opts: TcpOptions) {
    // Checked here, before a worker starts, so that a typo fails at once with the field's name.
    this.worldSize = checkInt('worldSize', opts.worldSize, 1, 65536);
    this.rank = checkInt('rank', opts.rank, 0, opts.worldSize - 1);
    checkInt('masterPort', opts.masterPort, 1, 65535);
    this.timeoutMs = checkInt('timeoutMs', opts.timeoutMs ?? 60000, 1, 2 ** 31 - 1);
    this.maxMessageBytes = opts.maxMessageBytes ?? 64 * 1024 * 1024;
    this.box = tcpMailbox(this.maxMessageBytes);
    const workerData: TcpWorkerData = {
      rank: opts.rank, worldSize: opts.worldSize, masterAddr: opts.masterAddr,
      masterPort: opts.masterPort, token: opts.token, timeoutMs: this.timeoutMs,
      maxMessageBytes: this.maxMessageBytes, mailbox: this.box.buffer,
      handshakeMs: opts.handshakeTimeoutMs ?? Math.min(5000, this.timeoutMs),
      maxPending: opts.maxPendingConnections ?? Math.max(64, 2 * opts.worldSize),
      ringPort: checkInt('ringPort', opts.ringPort ?? 0, 0, 65535),
      ringThresholdBytes: checkInt('ringThresholdBytes', opts.ringThresholdBytes ?? DEFAULT_RING_THRESHOLD_BYTES, -1, 2 ** 32),
      ringChunkBytes: checkInt('ringChunkBytes', opts.ringChunkBytes ?? DEFAULT_RING_CHUNK_BYTES, 8, 64 * 1024 * 1024),
      ringEncrypt: opts.ringEncrypt ?? false,
    };
    // Started from source so that the same code serves the ESM and CommonJS builds; the shim
    // stands in for the name-keeping helper some transpilers insert.
    const code = `const __name = (f) => f;\n(${tcpWorkerMain.toString()})((${tcpProtocol.toString()})(require('node:crypto')), ` +
      `(${tcpMailbox.toString()})(require('node:worker_threads').workerData.mailbox), ` +
      `(${tcpRing.toString()}), (${ringPlan.toString()}));`;
    const {Worker: WorkerClass} = nodeBuiltin<typeof import('node:worker_threads')>('node:worker_threads', 'the TCP transport');
    this.worker = new WorkerClass(code, {eval: true, workerData});
    this.worker.unref();
    // Seen only when this thread is not blocked; the network thread records its own crashes.
    this.worker.on('error', (e) => this.box.fail(`rank ${this.rank}: the network thread crashed: ${e.message}`));
    this.wait(this.box.S.CONNECTING, `the rendezvous at ${opts.masterAddr}:${opts.masterPort}`);
  }

  allReduceSum(data: Float64Array): Float64Array {
    return this.reduce(data, this.box.data) as Float64Array;
  }

  allReduceSumFloat32(data: Float32Array): Float32Array {
    return this.reduce(data, this.box.data32) as Float32Array;
  }

  /**
   * Starts a float32 all-reduce of `data`, in place, and returns at once: the network thread
   * works on it while this thread does something else, until `wait()` leaves the sum in `data`.
   * One at a time: no other collective may start before `wait()`.
   */
  startAllReduceSumFloat32(data: Float32Array): PendingAllReduce {
    this.post(data, this.box.data32);
    let done = false;
    return {
      wait: () => {
        if (!done) this.finish(data);
        done = true;
        return data;
      },
    };
  }

  private reduce(data: Float64Array | Float32Array, area: Float64Array | Float32Array): Float64Array | Float32Array {
    this.post(data, area);
    return this.finish(data instanceof Float32Array ? new Float32Array(data.length) : new Float64Array(data.length));
  }

  /** Posts `data` to the network thread through `area` (its type's view of the mailbox). */
  private post(data: Float64Array | Float32Array, area: Float64Array | Float32Array): void {
    if (this.pending) {
      throw new CollectiveError(`rank ${this.rank}: all-reduce #${this.pending.seq} was started and not waited for: ` +
        'call its wait() before the next collective');
    }
    this.throwIfFailed();
    if (this.closed) throw new CollectiveError(`rank ${this.rank}: allReduceSum on a closed transport`);
    const {S, W, ctl} = this.box;
    const seq = this.seq;
    if (data.byteLength > this.maxMessageBytes) {
      this.failGroup(`rank ${this.rank}: all-reduce #${seq} of ${data.length} values (${data.byteLength} bytes) exceeds ` +
        `the message limit of ${this.maxMessageBytes} bytes: set TFJS_NORMS_MAX_MESSAGE_BYTES (or maxMessageBytes) ` +
        `to at least ${data.byteLength} on every rank`);
    }
    area.set(data);
    Atomics.store(ctl, W.LENGTH, data.length);
    Atomics.store(ctl, W.FLOAT32, area === this.box.data32 ? 1 : 0);
    // READY -> BUSY unless the group has just failed.
    if (!this.box.move(S.READY, S.BUSY)) {
      this.throwIfFailed();
      throw new CollectiveError(`rank ${this.rank}: the transport is not ready`);
    }
    this.seq++;
    this.pending = {seq, length: data.length, area};
    Atomics.add(ctl, W.REQUESTS, 1);
    Atomics.notify(ctl, W.REQUESTS);
  }

  /** Blocks until the posted all-reduce is done; copies its result into `out` (the posted length). */
  private finish<T extends Float64Array | Float32Array>(out: T): T {
    const {seq, length, area} = this.pending!;
    const {S, W, ctl} = this.box;
    this.pending = null;
    this.wait(S.BUSY, `all-reduce #${seq}`);
    out.set(area.subarray(0, length));
    Atomics.store(ctl, W.STATE, S.READY);
    return out;
  }

  /** Closes the transport; the others learn it at once (rank 0 or a rank that left). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.signal(-1);
  }

  /** Tells the network thread the transport is closed (-1) or failed here (-2). */
  private signal(value: number): void {
    const {ctl, W} = this.box;
    for (let now = Atomics.load(ctl, W.REQUESTS); now >= 0; now = Atomics.load(ctl, W.REQUESTS)) {
      if (Atomics.compareExchange(ctl, W.REQUESTS, now, value) === now) break;
    }
    Atomics.notify(ctl, W.REQUESTS);
    // Until the goodbye (or the failure) is on its way, so that a process exiting right after
    // still tells the others; bounded, in case the network thread is gone.
    const deadline = Date.now() + 1000;
    while (Atomics.load(ctl, W.STOPPED) === 0 && Date.now() < deadline) {
      Atomics.wait(ctl, W.STOPPED, 0, Math.max(1, deadline - Date.now()));
    }
  }

  /** Blocks while the mailbox is in `state`; throws on failure or after the timeout. */
  private wait(state: number, what: string): void {
    const {ctl, W} = this.box;
    const t0 = Date.now();
    const limit = this.timeoutMs + GRACE_MS;
    for (let spin = 0; spin < 2000 && Atomics.load(ctl, W.STATE) === state; spin++) { /* spin */ }
    while (Atomics.load(ctl, W.STATE) === state) {
      const elapsed = Date.now() - t0;
      if (elapsed >= limit) {
        this.failGroup(`rank ${this.rank}: timed out after ${elapsed} ms in ${what} (limit ${this.timeoutMs} ms): ` +
          'no answer from its network thread or rank 0');
      }
      Atomics.wait(ctl, W.STATE, state, limit - elapsed);
    }
    this.throwIfFailed();
  }

  /** Throws the group's failure if the mailbox is failed (a result waiting to be read is kept). */
  private throwIfFailed(): void {
    const {ctl, W, S} = this.box;
    if (Atomics.load(ctl, W.STATE) === S.DONE) return;
    const error = this.box.error();
    if (error !== null) throw new CollectiveError(`the collective group failed: ${error}`);
  }

  /** Fails the group from this side (every live rank is told), then throws. */
  private failGroup(message: string): never {
    if (this.box.fail(message)) this.signal(-2);
    this.closed = true;
    this.throwIfFailed();
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
 * one rank), `TFJS_NORMS_TIMEOUT_MS`, `TFJS_NORMS_MAX_MESSAGE_BYTES`, `TFJS_NORMS_RING_THRESHOLD_BYTES`
 * `TFJS_NORMS_RING_PORT` and `TFJS_NORMS_RING_ENCRYPT`. Bad values fail at once.
 * Blocks until every rank has joined; sets the group as the default and returns it.
 */
export function initFromEnv(opts: InitFromEnvOptions = {}): CollectiveGroup {
  const r = rendezvousFromEnv(opts.env ?? process.env, {timeoutMs: opts.timeoutMs, caller: 'initFromEnv'});
  if (r.worldSize === 1) return init(new SingleProcessTransport());
  const transport = new TcpTransport({
    rank: r.rank, worldSize: r.worldSize, token: r.token, timeoutMs: r.timeoutMs, maxMessageBytes: r.maxMessageBytes,
    masterAddr: r.masterAddr, masterPort: r.masterPort, ringThresholdBytes: r.ringThresholdBytes, ringPort: r.ringPort,
    ringEncrypt: r.ringEncrypt,
  });
  return init(transport);
}
