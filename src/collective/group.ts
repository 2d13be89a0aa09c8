/**
 * `CollectiveGroup` wraps a transport for the ops; a process-wide default group is set with
 * `init(transport)` and used by `syncBatchNorm` when no `group` option is given.
 */
import {CollectiveError, SingleProcessTransport, type CollectiveTransport, type PendingAllReduce} from './transport.js';

export class CollectiveGroup {
  private destroyed = false;

  constructor(readonly transport: CollectiveTransport) {
    const {rank, worldSize} = transport;
    if (!Number.isInteger(worldSize) || worldSize < 1) {
      throw new CollectiveError(`transport worldSize must be a positive integer, got ${worldSize}`);
    }
    if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize) {
      throw new CollectiveError(`transport rank must be in [0, ${worldSize}), got ${rank}`);
    }
  }

  get rank(): number {
    return this.transport.rank;
  }

  get worldSize(): number {
    return this.transport.worldSize;
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /**
   * Element-wise sum over the group's ranks (blocking), in the precision of `data`. Float32
   * goes through the transport's `allReduceSumFloat32` when it has one, else through float64.
   */
  allReduceSum(data: Float64Array): Float64Array;
  allReduceSum(data: Float32Array): Float32Array;
  allReduceSum(data: Float64Array | Float32Array): Float64Array | Float32Array {
    if (this.destroyed) throw new CollectiveError('collective on a destroyed group');
    const t = this.transport;
    const out = data instanceof Float64Array ? t.allReduceSum(data)
      : t.allReduceSumFloat32 ? t.allReduceSumFloat32(data) : Float32Array.from(t.allReduceSum(Float64Array.from(data)));
    if (out.length !== data.length) {
      throw new CollectiveError(`transport returned ${out.length} values for ${data.length}`);
    }
    return out;
  }

  /**
   * Starts the float32 sum of `data` over the group, in place, and returns at once when the
   * transport can (`startAllReduceSumFloat32`), else sums it now; `wait()` returns `data`
   * holding the sum. `data` must not change before `wait()`; at most one may be outstanding,
   * and no other collective may run before its `wait()`.
   */
  startAllReduceSum(data: Float32Array): PendingAllReduce {
    if (this.destroyed) throw new CollectiveError('collective on a destroyed group');
    const t = this.transport;
    if (!t.startAllReduceSumFloat32) {
      data.set(this.allReduceSum(data));
      return {wait: () => data};
    }
    return t.startAllReduceSumFloat32(data);
  }

  /**
   * Every rank's `data` (all of the same length), in rank order, through one all-reduce: each
   * rank fills its own segment of a zero vector.
   */
  allGather(data: Float64Array): Float64Array[] {
    const n = data.length;
    const buf = new Float64Array(n * this.worldSize);
    buf.set(data, n * this.rank);
    const all = this.allReduceSum(buf);
    return Array.from({length: this.worldSize}, (_, r) => all.subarray(r * n, (r + 1) * n));
  }

  /** Closes the transport. If this is the default group, the default is reset. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (defaultGroup === this) defaultGroup = null;
    this.transport.close();
  }
}

let defaultGroup: CollectiveGroup | null = null;

/** Sets the default group for `syncBatchNorm` and the layers; returns it. */
export function init(transport: CollectiveTransport | CollectiveGroup): CollectiveGroup {
  const group = transport instanceof CollectiveGroup ? transport : new CollectiveGroup(transport);
  if (defaultGroup !== null && defaultGroup !== group) defaultGroup.destroy();
  defaultGroup = group;
  return group;
}

/** The group set by `init`, or null. */
export function getDefaultGroup(): CollectiveGroup | null {
  return defaultGroup;
}

/** Destroys the default group (if any). */
export function destroy(): void {
  defaultGroup?.destroy();
  defaultGroup = null;
}

const worldOfOne = new CollectiveGroup(new SingleProcessTransport());

/**
 * The group an op uses: the given one, else the default, else a world of one. A given value
 * that is not a group (e.g. `{}` or a bare transport) is refused here, before any collective.
 */
export function resolveGroup(group?: CollectiveGroup | null): CollectiveGroup {
  if (group !== undefined && group !== null && !isGroup(group)) {
    const hint = isTransport(group) ? 'a transport: wrap it with collective.init(transport) or new CollectiveGroup(transport)'
      : describeValue(group);
    throw new CollectiveError('the `group` option must be a collective.CollectiveGroup (from collective.init, ' +
      `initFromEnv or getDefaultGroup), or null/undefined for the default group; got ${hint}`);
  }
  const g = group ?? defaultGroup ?? worldOfOne;
  if (g.isDestroyed) throw new CollectiveError('the collective group has been destroyed');
  return g;
}

/** A group of this or another copy of the package (ESM and CommonJS builds may both be loaded). */
function isGroup(g: unknown): g is CollectiveGroup {
  if (g instanceof CollectiveGroup) return true;
  const o = g as Partial<CollectiveGroup> | null;
  return typeof o === 'object' && o !== null && typeof o.allReduceSum === 'function' &&
    typeof o.allGather === 'function' && typeof o.isDestroyed === 'boolean' &&
    Number.isInteger(o.rank) && Number.isInteger(o.worldSize);
}

function isTransport(t: unknown): boolean {
  const o = t as Partial<CollectiveTransport> | null;
  return typeof o === 'object' && o !== null && typeof o.allReduceSum === 'function' && typeof o.close === 'function';
}

function describeValue(v: unknown): string {
  if (typeof v !== 'object') return `${typeof v} ${String(v)}`;
  let json: string;
  try {
    json = JSON.stringify(v) ?? String(v);
  } catch {
    json = Object.prototype.toString.call(v);
  }
  return `${(v as object).constructor?.name ?? 'object'} ${json.length > 80 ? json.slice(0, 77) + '...' : json}`;
}
