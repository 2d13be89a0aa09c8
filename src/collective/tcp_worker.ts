/**
 * The network side of the TCP transport, run in a helper worker thread so that the compute
 * thread can block in `Atomics.wait` while sockets make progress.
 *
 * `tcpWorkerMain` is started from its source text (`new Worker(code, {eval: true})`), so it
 * must stay self-contained: everything it uses is defined inside it or `require`d from Node.
 *
 * Rank 0's worker hosts the rendezvous on MASTER_ADDR:MASTER_PORT; the others connect to it and
 * present the shared token. An all-reduce sends each rank's array to rank 0, which sums the
 * arrays in rank order and sends the result back. Frames: 12-byte header (magic 'TFNM', type,
 * payload length) and a payload bounded by `maxMessageBytes` (1 KiB before a peer is
 * authenticated); anything else closes the connection.
 *
 * Mailbox (SharedArrayBuffer): Int32 words [STATE, LENGTH, REQUESTS, MESSAGE_LENGTH], then the
 * error message bytes, then the float64 data.
 */
export interface TcpWorkerData {
  rank: number;
  worldSize: number;
  masterAddr: string;
  masterPort: number;
  token: string;
  timeoutMs: number;
  maxMessageBytes: number;
  mailbox: SharedArrayBuffer;
}

/** Mailbox layout, shared by both sides. */
export const MAILBOX = {
  STATE: 0, LENGTH: 1, REQUESTS: 2, MESSAGE_LENGTH: 3,
  MESSAGE_OFFSET: 16, MESSAGE_BYTES: 1024, DATA_OFFSET: 16 + 1024,
  // STATE values.
  CONNECTING: 0, READY: 1, BUSY: 2, DONE: 3, FAILED: 4,
} as const;

export function tcpWorkerMain(): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const {workerData} = require('node:worker_threads') as typeof import('node:worker_threads');
  const net = require('node:net') as typeof import('node:net');
  const crypto = require('node:crypto') as typeof import('node:crypto');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const cfg = workerData as TcpWorkerData;
  const M = {
    STATE: 0, LENGTH: 1, REQUESTS: 2, MESSAGE_LENGTH: 3, MESSAGE_OFFSET: 16, MESSAGE_BYTES: 1024,
    DATA_OFFSET: 16 + 1024, READY: 1, BUSY: 2, DONE: 3, FAILED: 4,
  };
  const ctl = new Int32Array(cfg.mailbox, 0, 4);
  const messageBytes = new Uint8Array(cfg.mailbox, M.MESSAGE_OFFSET, M.MESSAGE_BYTES);
  const data = new Float64Array(cfg.mailbox, M.DATA_OFFSET);
  const MAGIC = 0x54464e4d;
  const HEADER = 12;
  const T = {HELLO: 1, WELCOME: 2, CONTRIB: 3, RESULT: 4, ERROR: 5, BYE: 6};
  const HELLO_LIMIT = 1024;
  let failed = false;
  let closing = false;

  const digest = (s: string) => crypto.createHash('sha256').update(s).digest();
  const tokenDigest = digest(cfg.token);

  function frame(type: number, payload: Buffer): Buffer {
    const h = Buffer.alloc(HEADER);
    h.writeUInt32BE(MAGIC, 0);
    h.writeUInt8(type, 4);
    h.writeUInt32BE(payload.length, 8);
    return Buffer.concat([h, payload]);
  }

  function arrayFrame(type: number, seq: number, values: Float64Array): Buffer {
    const p = Buffer.alloc(4 + values.length * 8);
    p.writeUInt32BE(seq >>> 0, 0);
    Buffer.from(values.buffer, values.byteOffset, values.byteLength).copy(p, 4);
    return frame(type, p);
  }

  function readArray(payload: Buffer): {seq: number; values: Float64Array} {
    const seq = payload.readUInt32BE(0);
    const values = new Float64Array((payload.length - 4) / 8);
    payload.copy(Buffer.from(values.buffer), 0, 4);
    return {seq, values};
  }

  /** Splits a byte stream into frames; calls `bad` (and stops) on anything malformed. */
  function reader(limit: () => number, onFrame: (type: number, payload: Buffer) => void,
                  bad: (why: string) => void): (chunk: Buffer) => void {
    let buf: Buffer = Buffer.alloc(0);
    let dead = false;
    return (chunk: Buffer) => {
      if (dead) return;
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= HEADER) {
        const magic = buf.readUInt32BE(0);
        const type = buf.readUInt8(4);
        const len = buf.readUInt32BE(8);
        if (magic !== MAGIC) { dead = true; bad('bad magic (not a tfjs-norms peer)'); return; }
        if (type < T.HELLO || type > T.BYE) { dead = true; bad(`unknown frame type ${type}`); return; }
        if (len > limit()) { dead = true; bad(`frame of ${len} bytes exceeds the limit of ${limit()}`); return; }
        if (buf.length < HEADER + len) return;
        const payload = buf.subarray(HEADER, HEADER + len);
        buf = buf.subarray(HEADER + len);
        onFrame(type, payload);
        if (dead) return;
      }
    };
  }

  // --- the compute thread's side of the mailbox ---

  let deferredFailure: string | null = null;
  function publishFailure(message: string): void {
    if (failed) return;
    // A result the compute thread has not picked up yet stays valid (e.g. a peer exiting right
    // after the last collective): the failure then applies from the next request on.
    if (Atomics.load(ctl, M.STATE) === M.DONE) {
      deferredFailure ??= message;
      return;
    }
    failed = true;
    const bytes = Buffer.from(message, 'utf8').subarray(0, M.MESSAGE_BYTES);
    messageBytes.set(bytes);
    Atomics.store(ctl, M.MESSAGE_LENGTH, bytes.length);
    Atomics.store(ctl, M.STATE, M.FAILED);
    Atomics.notify(ctl, M.STATE);
  }

  function publishResult(values: Float64Array): void {
    data.set(values);
    Atomics.store(ctl, M.STATE, M.DONE);
    Atomics.notify(ctl, M.STATE);
  }

  /** Calls `onRequest` with each array the compute thread posts. */
  function serveRequests(onRequest: (seq: number, values: Float64Array) => void): void {
    let seen = Atomics.load(ctl, M.REQUESTS);
    const wait = () => {
      const w = (Atomics as unknown as {waitAsync(a: Int32Array, i: number, v: number):
        {async: boolean; value: Promise<string> | string}}).waitAsync(ctl, M.REQUESTS, seen);
      const next = () => {
        if (failed || closing) return;
        const now = Atomics.load(ctl, M.REQUESTS);
        if (now === -1) { closing = true; shutdown(); return; }
        if (now !== seen) {
          seen = now;
          if (deferredFailure !== null) { publishFailure(deferredFailure); return; }
          const len = Atomics.load(ctl, M.LENGTH);
          onRequest(now - 1, Float64Array.from(data.subarray(0, len)));
        }
        wait();
      };
      if (w.async) void (w.value as Promise<string>).then(next); else next();
    };
    wait();
  }

  const sockets = new Set<import('node:net').Socket>();
  let server: import('node:net').Server | null = null;
  /** Closes every socket (a joined rank says goodbye first when closing) and ends the thread. */
  function shutdown(): void {
    clearTimeout(rendezvousTimer);
    for (const s of sockets) {
      if (closing && cfg.rank !== 0) s.end(frame(T.BYE, Buffer.alloc(0)));
      else s.destroy();
    }
    server?.close();
    setTimeout(() => process.exit(0), 200).unref();
  }

  function ready(): void {
    Atomics.store(ctl, M.STATE, M.READY);
    Atomics.notify(ctl, M.STATE);
  }

  const rendezvousTimer = setTimeout(() => {
    publishFailure(`rank ${cfg.rank}: rendezvous at ${cfg.masterAddr}:${cfg.masterPort} did not complete ` +
      `within ${cfg.timeoutMs} ms${rejections.length ? ` (rejected: ${rejections.join('; ')})` : ''}`);
    shutdown();
  }, cfg.timeoutMs);
  const rejections: string[] = [];

  if (cfg.rank === 0) {
    // --- the hub ---
    const peers = new Map<number, import('node:net').Socket>();
    let started = false;
    let pending: Array<Float64Array | null> = [];
    let pendingSeq = -1;
    let collectiveTimer: ReturnType<typeof setTimeout> | null = null;

    const broadcastError = (message: string) => {
      const f = frame(T.ERROR, Buffer.from(message, 'utf8'));
      for (const s of peers.values()) s.end(f);
      publishFailure(message);
      shutdown();
    };

    const contribute = (rank: number, seq: number, values: Float64Array) => {
      if (failed) return;
      if (pendingSeq === -1) {
        pendingSeq = seq;
        pending = new Array(cfg.worldSize).fill(null);
        collectiveTimer = setTimeout(() => {
          const missing = pending.map((p, r) => (p === null ? r : -1)).filter((r) => r >= 0);
          broadcastError(`timed out after ${cfg.timeoutMs} ms in all-reduce #${pendingSeq} waiting for rank(s) ${missing.join(', ')}`);
        }, cfg.timeoutMs);
      }
      if (seq !== pendingSeq || pending[rank] !== null) {
        broadcastError(`collective mismatch: rank ${rank} sent all-reduce #${seq} while #${pendingSeq} is in progress`);
        return;
      }
      const first = pending.find((p) => p !== null);
      if (first && first.length !== values.length) {
        broadcastError(`collective mismatch in all-reduce #${seq}: rank ${rank} sent ${values.length} values, ` +
          `rank ${pending.indexOf(first)} sent ${first.length}`);
        return;
      }
      pending[rank] = values;
      if (pending.some((p) => p === null)) return;
      clearTimeout(collectiveTimer!);
      const sum = new Float64Array(values.length);
      for (const p of pending) for (let i = 0; i < sum.length; i++) sum[i] += p![i];
      pendingSeq = -1;
      const out = arrayFrame(T.RESULT, seq, sum);
      let unflushed = peers.size;
      // Rank 0 returns only once every peer's result is handed to the OS, so that a rank 0
      // that exits right after its last collective cannot cut the others off.
      if (unflushed === 0) publishResult(sum);
      for (const s of peers.values()) s.write(out, () => { if (--unflushed === 0) publishResult(sum); });
    };

    server = net.createServer((socket) => {
      sockets.add(socket);
      socket.setNoDelay(true);
      let rank = -1;
      const who = () => (rank >= 0 ? `rank ${rank}` : `${socket.remoteAddress}:${socket.remotePort}`);
      const reject = (why: string) => {
        rejections.push(`${who()}: ${why}`);
        socket.end(frame(T.ERROR, Buffer.from(`rejected by rank 0: ${why}`, 'utf8')));
        socket.destroy();
      };
      const onData = reader(() => (rank >= 0 ? cfg.maxMessageBytes + 4 : HELLO_LIMIT), (type, payload) => {
        if (rank < 0) {
          if (type !== T.HELLO) return reject('expected a HELLO frame');
          let hello: {rank?: unknown; worldSize?: unknown; token?: unknown};
          try { hello = JSON.parse(payload.toString('utf8')); } catch { return reject('malformed HELLO'); }
          if (typeof hello.token !== 'string' || !crypto.timingSafeEqual(digest(hello.token), tokenDigest)) {
            return reject('wrong token');
          }
          const r = hello.rank;
          if (typeof r !== 'number' || !Number.isInteger(r) || r < 1 || r >= cfg.worldSize) return reject(`invalid rank ${String(r)}`);
          if (hello.worldSize !== cfg.worldSize) return reject(`world size ${String(hello.worldSize)} != ${cfg.worldSize}`);
          if (peers.has(r)) return reject(`rank ${r} already joined`);
          rank = r;
          peers.set(r, socket);
          if (peers.size === cfg.worldSize - 1) {
            started = true;
            clearTimeout(rendezvousTimer);
            for (const s of peers.values()) s.write(frame(T.WELCOME, Buffer.alloc(0)));
            ready();
          }
          return;
        }
        if (type === T.CONTRIB) {
          if ((payload.length - 4) % 8 !== 0) return broadcastError(`rank ${rank} sent a malformed all-reduce frame`);
          const {seq, values} = readArray(payload);
          contribute(rank, seq, values);
        } else if (type === T.BYE) {
          peers.delete(rank);
          rank = -2;
        } else {
          broadcastError(`rank ${rank} sent an unexpected frame of type ${type}`);
        }
      }, (why) => {
        if (rank >= 0) broadcastError(`rank ${rank} sent a malformed frame: ${why}`);
        else reject(why);
      });
      socket.on('data', onData);
      socket.on('error', () => { /* handled by close */ });
      socket.on('close', () => {
        sockets.delete(socket);
        if (rank >= 0 && peers.get(rank) === socket) {
          peers.delete(rank);
          if (started && !closing) broadcastError(`rank ${rank} disconnected (process gone?)`);
        }
      });
    });
    server.on('error', (e) => publishFailure(`rank 0: cannot listen on ${cfg.masterAddr}:${cfg.masterPort}: ${e.message}`));
    server.listen(cfg.masterPort, cfg.masterAddr, () => {
      if (cfg.worldSize === 1) { clearTimeout(rendezvousTimer); started = true; ready(); }
    });
    serveRequests((seq, values) => contribute(0, seq, values));
  } else {
    // --- a rank that joins rank 0 ---
    let socket: import('node:net').Socket | null = null;
    let welcomed = false;
    const connect = () => {
      if (failed) return;
      const s = net.connect(cfg.masterPort, cfg.masterAddr);
      s.setNoDelay(true);
      let opened = false;
      s.on('connect', () => {
        opened = true;
        socket = s;
        sockets.add(s);
        s.write(frame(T.HELLO, Buffer.from(JSON.stringify({rank: cfg.rank, worldSize: cfg.worldSize, token: cfg.token}))));
      });
      s.on('data', reader(() => cfg.maxMessageBytes + 4, (type, payload) => {
        if (type === T.WELCOME) {
          welcomed = true;
          clearTimeout(rendezvousTimer);
          ready();
        } else if (type === T.RESULT) {
          publishResult(readArray(payload).values);
        } else if (type === T.ERROR) {
          publishFailure(payload.toString('utf8'));
          shutdown();
        }
      }, (why) => { publishFailure(`rank ${cfg.rank}: malformed frame from rank 0: ${why}`); shutdown(); }));
      s.on('error', () => { /* handled by close */ });
      s.on('close', () => {
        sockets.delete(s);
        if (!opened && !welcomed) { setTimeout(connect, 50); return; } // rank 0 not listening yet
        if (!closing) publishFailure(`rank ${cfg.rank}: lost the connection to rank 0 (process gone?)`);
      });
    };
    connect();
    serveRequests((seq, values) => {
      if (socket === null || !welcomed) return publishFailure(`rank ${cfg.rank}: not connected`);
      socket.write(arrayFrame(T.CONTRIB, seq, values));
    });
  }
}
