/**
 * The shared memory between the TCP transport's compute thread and its network thread.
 *
 * Self-contained (the network thread is started from source text): it uses nothing but its
 * argument and JavaScript globals.
 *
 * Int32 words [STATE, LENGTH, REQUESTS, MESSAGE_LENGTH, ERROR, STOPPED, FLOAT32], then the
 * failure message bytes, then the data (float64 or float32). A failure is sticky: it is
 * written once (the first cause wins) and stays readable by the compute thread even after the
 * network thread has ended, so that no failure can turn into a timeout.
 */
export type TcpMailbox = ReturnType<typeof tcpMailbox>;

/** The mailbox in `buffer`, or in a new buffer with room for `buffer` bytes of data. */
export function tcpMailbox(buffer: SharedArrayBuffer | number) {
  /**
   * Word indices. REQUESTS counts posted all-reduces; -1 = closed, -2 = failed by the compute
   * side. STOPPED becomes 1 once the network thread has handed its last frames to the OS.
   * FLOAT32 says whether the data of the posted all-reduce is float32 (1) or float64 (0).
   */
  const W = {STATE: 0, LENGTH: 1, REQUESTS: 2, MESSAGE_LENGTH: 3, ERROR: 4, STOPPED: 5, FLOAT32: 6} as const;
  /** STATE values. */
  const S = {CONNECTING: 0, READY: 1, BUSY: 2, DONE: 3, FAILED: 4} as const;
  const MESSAGE_OFFSET = 32;
  const MESSAGE_BYTES = 1024;
  const DATA_OFFSET = MESSAGE_OFFSET + MESSAGE_BYTES;
  if (typeof buffer === 'number') buffer = new SharedArrayBuffer(DATA_OFFSET + buffer);
  const ctl = new Int32Array(buffer, 0, MESSAGE_OFFSET / 4);
  const text = new Uint8Array(buffer, MESSAGE_OFFSET, MESSAGE_BYTES);
  const data = new Float64Array(buffer, DATA_OFFSET);
  const data32 = new Float32Array(buffer, DATA_OFFSET);

  return {
    W, S, ctl, data, data32, buffer,

    /** The data area as the type of the posted all-reduce. */
    view(): Float64Array | Float32Array {
      return Atomics.load(ctl, W.FLOAT32) ? data32 : data;
    },

    /**
     * Records the group's failure (the first cause wins) and wakes the compute thread, unless a
     * result is waiting for it: that result stays valid and the failure applies from the next
     * collective on. Returns whether this call recorded the failure.
     */
    fail(message: string): boolean {
      // ERROR: 0 none, 2 being written, 1 written.
      if (Atomics.compareExchange(ctl, W.ERROR, 0, 2) !== 0) return false;
      const bytes = new TextEncoder().encode(message).subarray(0, MESSAGE_BYTES);
      text.set(bytes);
      Atomics.store(ctl, W.MESSAGE_LENGTH, bytes.length);
      Atomics.store(ctl, W.ERROR, 1);
      for (;;) {
        const s = Atomics.load(ctl, W.STATE);
        if (s === S.DONE || s === S.FAILED || Atomics.compareExchange(ctl, W.STATE, s, S.FAILED) === s) break;
      }
      Atomics.notify(ctl, W.STATE);
      return true;
    },

    /** The recorded failure, or null. */
    error(): string | null {
      if (Atomics.load(ctl, W.ERROR) === 0) return null;
      while (Atomics.load(ctl, W.ERROR) === 2) { /* the other thread is a few stores from done */ }
      return new TextDecoder().decode(text.slice(0, Atomics.load(ctl, W.MESSAGE_LENGTH)));
    },

    /** Moves STATE from `from` to `to` (and wakes the compute thread); false if it was not `from`. */
    move(from: number, to: number): boolean {
      const ok = Atomics.compareExchange(ctl, W.STATE, from, to) === from;
      if (ok) Atomics.notify(ctl, W.STATE);
      return ok;
    },
  };
}
