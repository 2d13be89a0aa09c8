/**
 * A collective transport for threads of one process (Node `worker_threads`, browser Web
 * Workers in a cross-origin-isolated page): ranks meet in a SharedArrayBuffer and block on
 * `Atomics.wait` (not allowed on a browser's main thread).
 *
 * Each all-reduce is one barrier round per chunk: every rank writes `[seq, length]` and its
 * chunk into its own slot, waits until all have arrived, checks that all headers agree, and
 * sums the slots in rank order (so every rank gets bit-identical results). Slots alternate
 * between two banks by round, so nobody overwrites data another rank may still be reading.
 */
import {CollectiveError, type CollectiveTransport} from './transport.js';

/** Structured-cloneable description of a thread group: post it to each worker. */
export interface ThreadGroupHandle {
  readonly kind: 'tfjs-norms-thread-group';
  readonly worldSize: number;
  /** Elements per rank per round; longer arrays go in several rounds. */
  readonly capacity: number;
  readonly timeoutMs: number;
  readonly control: SharedArrayBuffer;
  readonly data: SharedArrayBuffer;
}

export interface ThreadGroupOptions {
  /** How long a rank waits for the others before failing the group. Default 60000. */
  timeoutMs?: number;
  /** Elements per rank per round. Default 65536. */
  maxElements?: number;
}

// Control words.
const GEN = 0;
const ARRIVED = 1;
const FAILED = 2;
const CLOSED = 3;
const MESSAGE_LEN = 4;
const HEADERS = 8;
const MESSAGE_BYTES = 512;
// Spin this many checks before sleeping: a round trip usually completes within it.
const SPIN = 4000;

function controlWords(worldSize: number): number {
  // HEADERS, then [seq, length] for 2 banks × worldSize ranks, then one joined flag per rank,
  // then the failure message.
  return HEADERS + 4 * worldSize + worldSize + MESSAGE_BYTES / 4;
}

export function createThreadGroup(worldSize: number, opts: ThreadGroupOptions = {}): ThreadGroupHandle {
  if (!Number.isInteger(worldSize) || worldSize < 1) {
    throw new CollectiveError(`createThreadGroup: worldSize must be a positive integer, got ${worldSize}`);
  }
  if (typeof SharedArrayBuffer === 'undefined') {
    throw new CollectiveError('createThreadGroup: SharedArrayBuffer is not available ' +
      '(in a browser the page must be cross-origin isolated)');
  }
  const capacity = opts.maxElements ?? 65536;
  const timeoutMs = opts.timeoutMs ?? 60000;
  if (!Number.isInteger(capacity) || capacity < 1) {
    throw new CollectiveError(`createThreadGroup: maxElements must be a positive integer, got ${capacity}`);
  }
  if (!(timeoutMs > 0)) throw new CollectiveError(`createThreadGroup: timeoutMs must be > 0, got ${timeoutMs}`);
  return {
    kind: 'tfjs-norms-thread-group', worldSize, capacity, timeoutMs,
    control: new SharedArrayBuffer(controlWords(worldSize) * 4),
    data: new SharedArrayBuffer(2 * worldSize * capacity * 8),
  };
}

export function joinThreadGroup(handle: ThreadGroupHandle, rank: number): CollectiveTransport {
  return new ThreadTransport(handle, rank);
}

class ThreadTransport implements CollectiveTransport {
  readonly worldSize: number;
  private readonly ctl: Int32Array;
  private readonly slots: Float64Array;
  private readonly message: Uint8Array;
  private round = 0;
  private seq = 0;
  private closed = false;

  constructor(private readonly handle: ThreadGroupHandle, readonly rank: number) {
    if (handle?.kind !== 'tfjs-norms-thread-group') {
      throw new CollectiveError('joinThreadGroup: not a handle from createThreadGroup');
    }
    this.worldSize = handle.worldSize;
    if (!Number.isInteger(rank) || rank < 0 || rank >= this.worldSize) {
      throw new CollectiveError(`joinThreadGroup: rank must be in [0, ${this.worldSize}), got ${rank}`);
    }
    this.ctl = new Int32Array(handle.control);
    this.slots = new Float64Array(handle.data);
    this.message = new Uint8Array(handle.control, (controlWords(this.worldSize) - MESSAGE_BYTES / 4) * 4);
    const joined = HEADERS + 4 * this.worldSize + rank;
    if (Atomics.compareExchange(this.ctl, joined, 0, 1) !== 0) {
      throw new CollectiveError(`joinThreadGroup: rank ${rank} has already joined this group`);
    }
  }

  allReduceSum(data: Float64Array): Float64Array {
    if (this.closed) throw new CollectiveError(`rank ${this.rank}: allReduceSum on a closed transport`);
    this.throwIfFailed();
    const seq = this.seq++;
    const out = new Float64Array(data.length);
    const {capacity} = this.handle;
    // At least one round, so that empty arrays still synchronize and check headers.
    for (let offset = 0; offset === 0 || offset < data.length; offset += capacity) {
      const n = Math.min(capacity, data.length - offset);
      const bank = this.round++ & 1;
      const header = HEADERS + (bank * this.worldSize + this.rank) * 2;
      this.ctl[header] = seq;
      this.ctl[header + 1] = data.length;
      this.slots.set(data.subarray(offset, offset + n), (bank * this.worldSize + this.rank) * capacity);
      this.barrier(seq);
      for (let r = 0; r < this.worldSize; r++) {
        const h = HEADERS + (bank * this.worldSize + r) * 2;
        if (this.ctl[h] !== seq || this.ctl[h + 1] !== data.length) {
          this.fail(`collective mismatch: rank ${this.rank} called all-reduce #${seq} with ` +
            `${data.length} values, rank ${r} called #${this.ctl[h]} with ${this.ctl[h + 1]}`);
        }
      }
      for (let r = 0; r < this.worldSize; r++) {
        const base = (bank * this.worldSize + r) * capacity;
        for (let i = 0; i < n; i++) out[offset + i] += this.slots[base + i];
      }
      if (data.length === 0) break;
    }
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.add(this.ctl, CLOSED, 1);
    Atomics.notify(this.ctl, GEN);
  }

  private barrier(seq: number): void {
    const gen = Atomics.load(this.ctl, GEN);
    if (Atomics.add(this.ctl, ARRIVED, 1) === this.worldSize - 1) {
      Atomics.store(this.ctl, ARRIVED, 0);
      Atomics.add(this.ctl, GEN, 1);
      Atomics.notify(this.ctl, GEN);
      return;
    }
    for (let i = 0; i < SPIN; i++) if (Atomics.load(this.ctl, GEN) !== gen) return;
    const deadline = Date.now() + this.handle.timeoutMs;
    while (Atomics.load(this.ctl, GEN) === gen) {
      this.throwIfFailed();
      if (Atomics.load(this.ctl, CLOSED) > 0) {
        this.fail(`rank ${this.rank}: a peer closed the group while all-reduce #${seq} was waiting for it`);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        this.fail(`rank ${this.rank}: timed out after ${this.handle.timeoutMs} ms in all-reduce #${seq} ` +
          'waiting for the other ranks (a peer is gone, stalled, or called collectives in another order)');
      }
      Atomics.wait(this.ctl, GEN, gen, remaining);
    }
  }

  private throwIfFailed(): void {
    const state = Atomics.load(this.ctl, FAILED);
    if (state !== 0) {
      // 1: the failing rank is still writing its message (a few stores away).
      while (Atomics.load(this.ctl, FAILED) === 1) { /* spin */ }
      const len = Atomics.load(this.ctl, MESSAGE_LEN);
      const text = new TextDecoder().decode(this.message.slice(0, len));
      throw new CollectiveError(`the collective group failed: ${text}`);
    }
  }

  /** Marks the whole group failed with `message`, wakes every waiting rank, and throws. */
  private fail(message: string): never {
    if (Atomics.compareExchange(this.ctl, FAILED, 0, 1) === 0) {
      const bytes = new TextEncoder().encode(message).slice(0, MESSAGE_BYTES);
      this.message.set(bytes);
      Atomics.store(this.ctl, MESSAGE_LEN, bytes.length);
      Atomics.store(this.ctl, FAILED, 2);
    }
    Atomics.notify(this.ctl, GEN);
    this.throwIfFailed();
    throw new CollectiveError(message);
  }
}
