/**
 * The transport a SyncBatchNorm group reduces its statistics through.
 *
 * Collectives are blocking (synchronous) because tfjs kernels and gradient functions are. Every
 * rank calls them in the same order with arrays of the same length; a failure (a peer gone, a
 * timeout, mismatched sizes or order) throws a clear `CollectiveError` on every live rank
 * instead of hanging. Implement this interface to bring your own transport (see
 * docs/collective.md).
 */
export interface CollectiveTransport {
  readonly rank: number;
  readonly worldSize: number;
  /** Element-wise sum of `data` over all ranks; every rank gets the same result. */
  allReduceSum(data: Float64Array): Float64Array;
  /**
   * Optional: the same for float32 (half the bytes; summed in float32, in rank order, so every
   * rank still gets the same result). `CollectiveGroup` goes through `allReduceSum` when a
   * transport lacks it.
   */
  allReduceSumFloat32?(data: Float32Array): Float32Array;
  /**
   * Optional: starts the float32 all-reduce of `data`, in place, and returns at once; `wait()`
   * blocks until `data` holds the sum (and returns it). Lets the caller prepare the next bucket
   * while this one is on the wire, and spares a copy into a new array. `data` must not change
   * before `wait()`. At most one is outstanding; `CollectiveGroup.startAllReduceSum` falls back
   * to the blocking call.
   */
  startAllReduceSumFloat32?(data: Float32Array): PendingAllReduce;
  /** Releases the transport's resources; collectives afterwards throw. */
  close(): void;
}

/** A started in-place all-reduce: `wait()` blocks until the array holds the sum and returns it (later calls return it again). */
export interface PendingAllReduce {
  wait(): Float32Array;
}

/** A collective failed (peer gone, timeout, mismatch); raised on every live rank. */
export class CollectiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CollectiveError';
  }
}

/** The transport of a world of one: the sum over one rank is the data itself. */
export class SingleProcessTransport implements CollectiveTransport {
  readonly rank = 0;
  readonly worldSize = 1;
  private closed = false;

  allReduceSum(data: Float64Array): Float64Array {
    if (this.closed) throw new CollectiveError('allReduceSum on a closed transport');
    return Float64Array.from(data);
  }

  allReduceSumFloat32(data: Float32Array): Float32Array {
    if (this.closed) throw new CollectiveError('allReduceSum on a closed transport');
    return Float32Array.from(data);
  }

  close(): void {
    this.closed = true;
  }
}
