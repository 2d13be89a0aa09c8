/**
 * The ring all-reduce of the TCP transport's network thread (tcp_worker.ts): connections
 * between neighbours and the chunked, pipelined reduce-scatter + all-gather of ring_plan.ts.
 *
 * Self-contained (the network thread is started from source text): it uses its arguments only.
 *
 * Every rank listens for its predecessor on the address it reaches rank 0 from (rank 0: on
 * MASTER_ADDR) and the port it is given (0: one the OS picks); rank 0 sends every rank the
 * table of these addresses in its sealed WELCOME, with a random group id. Each rank connects to
 * its successor and runs the handshake of tcp_protocol.ts under the scope 'ring' (the listener
 * proves first; its HELLO names the group and the claimed rank must be the predecessor); the
 * listener stops listening once its predecessor is in. Frames on the ring carry at most one
 * chunk each and are authenticated with the connection's session key (AES-GMAC, the frame
 * counter in the nonce: a forged, tampered, replayed or reordered frame fails) and, when rank 0
 * asks for it (`encrypt`), also encrypted like the star's. Values are reduced in place in the
 * mailbox's data area: signed frames are sent straight from it and received piece by piece
 * into it (ringSink), with no copies of their own.
 */
import type {Socket} from 'node:net';
import type {TcpMailbox} from './tcp_mailbox.js';
import type {TcpProtocol} from './tcp_protocol.js';
import type {RingPlan, ringPlan as RingPlanFn} from './ring_plan.js';

/** What rank 0 tells every rank in its WELCOME. */
export interface RingTable {
  /** Random id of this group, named in every ring HELLO. */
  group: string;
  /** All-reduces of at least this many bytes go round the ring; -1: never. */
  thresholdBytes: number;
  /** Most bytes of values in one ring frame. */
  chunkBytes: number;
  /** Whether ring frames are encrypted (AES-256-GCM) or only authenticated (AES-GMAC: integrity, no secrecy). */
  encrypt: boolean;
  /** Ring listener of every rank, by rank. */
  hosts: Array<[string, number]>;
}

export interface RingContext {
  rank: number;
  worldSize: number;
  timeoutMs: number;
  handshakeMs: number;
  maxPending: number;
  maxMessageBytes: number;
  key: Buffer;
  net: typeof import('node:net');
  /** The network thread's sockets: it flushes and closes them when it stops. */
  sockets: Set<Socket>;
  /** Fails the group (every live rank is told why) and stops the network thread. */
  groupFail(message: string): void;
  stopped(): boolean;
}

export type TcpRing = ReturnType<typeof tcpRing>;

export function tcpRing(P: TcpProtocol, box: TcpMailbox, ringPlan: typeof RingPlanFn, ctx: RingContext) {
  type Session = ReturnType<TcpProtocol['session']>;
  const {T} = P;
  const me = `rank ${ctx.rank}`;
  const W = ctx.worldSize;
  const prev = (ctx.rank + W - 1) % W;
  const next = (ctx.rank + 1) % W;
  /** seq, step, chunk, length, float32 (five uint32) and 4 zero bytes (float64-aligned values), then the values. */
  const RING_HEADER = 24;
  /** How long a closed ring connection waits before it fails the group: the star usually says more. */
  const CLOSE_GRACE_MS = 300;

  let server: import('node:net').Server | null = null;
  let table: RingTable | null = null;
  let onTable: Array<() => void> = [];
  let inLink: {socket: Socket; session: Session; addr: string} | null = null;
  let outLink: {socket: Socket; session: Session; addr: string} | null = null;
  let onReady: (() => void) | null = null;
  const timers: Array<ReturnType<typeof setTimeout>> = [];
  const pending = new Set<Socket>();
  const rejections: string[] = [];

  interface Run {
    seq: number; n: number; float32: boolean; plan: RingPlan; view: Float32Array | Float64Array;
    nextStep: Int32Array; lanesLeft: number; unflushed: number; sent: number; t0: number; timer: ReturnType<typeof setTimeout>;
  }
  /**
   * Work postponed until no ring all-reduce is in progress: a rank that has done its part and
   * left (or exited) must not break one that can still finish. `why` is the cause this rank
   * reports if the all-reduce in progress fails after all (a neighbour that really died
   * mid-way is seen by its neighbours, whose own errors would name only the next link).
   */
  let afterRun: Array<() => void> = [];
  let cause: string | null = null;
  const whenIdle = (f: () => void, why: string) => {
    if (!run) return f();
    cause ??= why;
    afterRun.push(f);
  };
  let run: Run | null = null;
  // One loop per element type, so that each stays monomorphic.
  const add32 = (dst: Float32Array, at: number, src: Float32Array) => { for (let i = 0; i < src.length; i++) dst[at + i] += src[i]; };
  const add64 = (dst: Float64Array, at: number, src: Float64Array) => { for (let i = 0; i < src.length; i++) dst[at + i] += src[i]; };
  let queued: Array<() => void> = [];
  /** Frames of the predecessor for an all-reduce this rank has not started yet. */
  let early: Buffer[] = [];
  let earlyBytes = 0;

  const fail = (message: string) => { if (!ctx.stopped()) ctx.groupFail(cause ?? message); };
  const note = (why: string) => {
    rejections.push(why);
    if (rejections.length > 3) rejections.shift();
  };
  const frameLimit = (authenticated: boolean) => (type: number) =>
    (authenticated && type === T.RING && table ? RING_HEADER + table.chunkBytes + P.TAG : P.HANDSHAKE_LIMIT);

  const readyCheck = () => {
    if (inLink && outLink && onReady) {
      const f = onReady;
      onReady = null;
      f();
    }
  };

  /** Starts listening for the predecessor on host:port; resolves with the port. */
  function listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      server = ctx.net.createServer(accept);
      server.once('error', (e) => reject(new Error(`${me}: cannot listen for the ring on ${host}:${port}: ${e.message}`)));
      server.listen(port, host, () => resolve((server!.address() as import('node:net').AddressInfo).port));
    });
  }

  function accept(socket: Socket): void {
    if (ctx.stopped() || inLink) { socket.destroy(); return; }
    if (pending.size >= ctx.maxPending) {
      const oldest = pending.values().next().value!;
      pending.delete(oldest);
      oldest.destroy();
      note(`dropped the oldest unauthenticated ring connection (more than ${ctx.maxPending} at once)`);
    }
    pending.add(socket);
    ctx.sockets.add(socket);
    socket.setNoDelay(true);
    const addr = `${socket.remoteAddress}:${socket.remotePort}`;
    let phase = 0; // 0: HELLO expected, 1: PROOF expected, 2: the predecessor's link
    let hello: Buffer = Buffer.alloc(0);
    let nonce: Buffer = Buffer.alloc(0);
    const drop = (why: string, reply: boolean) => {
      note(`${addr}: ${why}`);
      clearTimeout(deadline);
      pending.delete(socket);
      phase = -1;
      if (reply) socket.end(P.frame(T.REJECT, `rejected by the ring port of ${me}: ${why}`), () => socket.destroy());
      else socket.destroy();
    };
    const deadline = setTimeout(() => drop(`no handshake within ${ctx.handshakeMs} ms`, false), ctx.handshakeMs);

    const onHello = (payload: Buffer) => {
      if (phase !== 0 || ctx.stopped()) return;
      const m = P.parse(payload, ['v', 'rank', 'worldSize', 'nonce', 'group']);
      if (typeof m === 'string') return drop(m, true);
      if (m.group !== table!.group) return drop('HELLO for another group', true);
      if (m.worldSize !== W) return drop(`world size ${JSON.stringify(m.worldSize)} != ${W}`, true);
      if (m.rank !== prev) return drop(`claims rank ${JSON.stringify(m.rank)}; only rank ${prev} connects here`, true);
      if (inLink) return drop(`rank ${prev} is already connected`, true);
      hello = Buffer.from(payload);
      const c = P.challenge(ctx.key, hello, 'ring ');
      nonce = c.nonce;
      phase = 1;
      socket.write(P.frame(T.CHALLENGE, c.payload));
    };

    const onFrame = (type: number, head: Buffer, payload: Buffer) => {
      if (phase === 0) {
        if (type !== T.HELLO) return drop('expected a HELLO frame', true);
        phase = 0.5; // the HELLO is checked once the table is known
        const body = Buffer.from(payload);
        const go = () => { if (phase === 0.5) { phase = 0; onHello(body); } };
        if (table) go(); else onTable.push(go);
        return;
      }
      if (phase === 1) {
        if (type === T.REJECT) return drop(`wrong token: it could not verify this rank's proof (${P.text(payload)})`, false);
        if (type !== T.PROOF) return drop('expected a PROOF frame', true);
        if (!P.verify(P.rankProof(ctx.key, hello, nonce, 'ring '), payload)) return drop('wrong token (its proof does not match)', true);
        if (inLink) return drop(`rank ${prev} is already connected`, true);
        clearTimeout(deadline);
        pending.delete(socket);
        inLink = {socket, session: P.session(ctx.key, hello, nonce, true, 'ring '), addr};
        phase = 2;
        // Nobody else may connect: stop listening and drop the others.
        server?.close();
        for (const s of pending) s.destroy();
        pending.clear();
        readyCheck();
        return;
      }
      if (phase !== 2 || ctx.stopped()) return;
      const s = inLink!.session;
      // Signed RING frames are streamed (ringSink); what comes here whole is a sealed one or a bad one.
      const body = type === T.RING && table!.encrypt ? s.open(head, payload) : null;
      if (body === null) return forged(type);
      receive(body);
    };
    const forged = (type: number) => fail(`${me}: a ring frame from rank ${prev} at ${addr} failed authentication ` +
      `(forged, tampered, replayed or unexpected, type ${type}): dropped the connection`);
    const stream = (type: number, head: Buffer, length: number) =>
      (phase === 2 && type === T.RING && !table!.encrypt && !ctx.stopped() ? ringSink(head, length, () => forged(type)) : null);
    socket.on('data', P.reader(frameLimit(true), onFrame, (why) => {
      if (phase !== 2) return drop(why, true);
      fail(`${me}: rank ${prev} at ${addr} sent a malformed ring frame: ${why}`);
    }, stream));
    socket.on('error', () => { /* handled by close */ });
    socket.on('close', () => {
      clearTimeout(deadline);
      pending.delete(socket);
      ctx.sockets.delete(socket);
      if (phase !== 2 || ctx.stopped()) return;
      linkClosed(`${me}: rank ${prev} at ${addr} closed the ring connection (process gone?)`, (r) => r.lanesLeft > 0);
    });
  }

  /** Connects to the successor's ring listener and authenticates both ways. */
  function dial(): void {
    const [host, port] = table!.hosts[next];
    const where = `rank ${next} at ${host}:${port}`;
    const s = ctx.net.connect(port, host);
    ctx.sockets.add(s);
    s.setNoDelay(true);
    const hello = P.hello(ctx.rank, W, {group: table!.group});
    let phase = 0; // 0: CHALLENGE expected, 1: link up
    const deadline = setTimeout(() => fail(`${me}: the ring listener of ${where} did not complete the handshake ` +
      `within ${ctx.handshakeMs} ms`), ctx.handshakeMs);
    timers.push(deadline);
    s.on('connect', () => s.write(P.frame(T.HELLO, hello)));
    s.on('data', P.reader(frameLimit(false), (type, _head, payload) => {
      if (phase !== 0) return fail(`${me}: ${where} sent a frame (type ${type}) on the ring connection it only receives on`);
      if (type === T.REJECT) return fail(`${me}: rejected by the ring listener of ${where}: ${P.text(payload)}`);
      if (type !== T.CHALLENGE) return fail(`${me}: the ring listener of ${where} answered with frame type ${type}`);
      const c = P.parse(payload, ['nonce', 'proof']);
      if (typeof c === 'string') return fail(`${me}: the ring listener of ${where} sent ${c}`);
      const nonce = Buffer.from(c.nonce as string, 'hex');
      if (!P.verify(P.hubProof(ctx.key, hello, nonce, 'ring '), Buffer.from(c.proof as string, 'hex'))) {
        s.end(P.frame(T.REJECT, `${me} could not verify the ring proof`));
        return fail(`${me}: the ring listener of ${where} failed authentication: it could not prove that it knows ` +
          'TFJS_NORMS_TOKEN; nothing secret was sent to it');
      }
      clearTimeout(deadline);
      phase = 1;
      s.write(P.frame(T.PROOF, P.rankProof(ctx.key, hello, nonce, 'ring ')));
      outLink = {socket: s, session: P.session(ctx.key, hello, nonce, false, 'ring '), addr: `${host}:${port}`};
      readyCheck();
    }, (why) => fail(`${me}: malformed frame from the ring listener of ${where}: ${why}`)));
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (phase === 0) fail(`${me}: cannot connect to the ring listener of ${where}: ${e.code ?? e.message}`);
    });
    s.on('close', () => {
      ctx.sockets.delete(s);
      if (ctx.stopped()) return;
      linkClosed(`${me}: the ring connection to ${where} closed (process gone?)`, (r) => r.sent < r.plan.steps * r.plan.chunks);
    });
  }

  /**
   * A ring connection closed. It fails the group (after a grace period: the star usually names
   * the cause first) unless the all-reduce in progress no longer needs it (`needed`): a
   * neighbour that finished its part and left; then the failure waits for this one to finish.
   */
  function linkClosed(message: string, needed: (r: Run) => boolean): void {
    timers.push(setTimeout(() => {
      const r = run;
      if (r && needed(r)) fail(`${message} during all-reduce #${r.seq}`);
      else whenIdle(() => fail(message), message);
    }, CLOSE_GRACE_MS));
  }

  /** Sends chunk `c` of the segment this rank sends at `step`. */
  function send(r: Run, step: number, c: number): void {
    const [a, b] = r.plan.range(r.plan.sendSegment(ctx.rank, step), c);
    const head = Buffer.alloc(RING_HEADER);
    head.writeUInt32BE(r.seq >>> 0, 0);
    head.writeUInt32BE(step, 4);
    head.writeUInt32BE(c, 8);
    head.writeUInt32BE(r.n, 12);
    head.writeUInt32BE(r.float32 ? 1 : 0, 16);
    const bytes = r.view.BYTES_PER_ELEMENT;
    const values = new Uint8Array(r.view.buffer, r.view.byteOffset + a * bytes, (b - a) * bytes);
    // Signed frames go out straight from the shared memory, without a copy: the tag is computed
    // here, and no byte of this range changes before the successor has received the whole frame
    // (so before the OS has all of it, and the socket no longer reads these bytes). The compute
    // thread does not touch the data until DONE, which waits for every write; and this rank
    // writes a range it has sent only when it receives that chunk's sum in the all-gather, which
    // the successor can send only after it has received (and added) this frame. Sealing
    // encrypts into new buffers.
    const parts = table!.encrypt ? outLink!.session.sealParts(T.RING, [head, values])
      : outLink!.session.signParts(T.RING, [head, values]);
    r.unflushed++;
    r.sent++;
    const out = outLink!.socket;
    out.cork();
    for (let i = 0; i < parts.length - 1; i++) out.write(parts[i]);
    out.write(parts[parts.length - 1], () => {
      r.unflushed--;
      finishIfDone(r);
    });
    out.uncork();
  }

  function finishIfDone(r: Run): void {
    if (run !== r || r.lanesLeft > 0 || r.unflushed > 0) return;
    clearTimeout(r.timer);
    run = null;
    // Every frame of this rank is with the OS: a process that exits right after cannot cut the
    // others off.
    box.move(box.S.BUSY, box.S.DONE);
    const later = afterRun;
    afterRun = [];
    for (const f of later) f();
  }

  /** Where a ring frame's values go: [a, b) of the data area, added (reduce-scatter) or copied (all-gather). */
  interface Landing { r: Run; step: number; c: number; a: number; add: boolean; bytes: Uint8Array }

  /**
   * Checks a ring frame's 24-byte header `h` (and its `valueBytes`) against the all-reduce in
   * progress: where its values go, or null once the group has been failed.
   */
  function land(r: Run, h: Buffer, valueBytes: number): Landing | null {
    const peer = `rank ${prev}`;
    const seq = h.readUInt32BE(0), step = h.readUInt32BE(4), c = h.readUInt32BE(8);
    const n = h.readUInt32BE(12), float32 = h.readUInt32BE(16) === 1;
    if (seq !== r.seq >>> 0) {
      fail(`collective mismatch: ${peer} sent ring all-reduce #${seq} while ${me} is in #${r.seq}`);
      return null;
    }
    if (n !== r.n || float32 !== r.float32) {
      const kind = (k: number, f: boolean) => `${k}${float32 === r.float32 ? '' : f ? ' float32' : ' float64'} values`;
      fail(`collective mismatch in all-reduce #${r.seq}: ${peer} sent ${kind(n, float32)}, ${me} sent ${kind(r.n, r.float32)}`);
      return null;
    }
    if (step >= r.plan.steps || c >= r.plan.chunks || r.nextStep[c] !== step) {
      fail(`${me}: ${peer} sent ring step ${step} of chunk ${c} out of sequence in all-reduce #${r.seq}` +
        (c < r.plan.chunks ? ` (expected step ${r.nextStep[c]})` : ` (${r.plan.chunks} chunks)`));
      return null;
    }
    const [a, b] = r.plan.range(r.plan.recvSegment(ctx.rank, step), c);
    const eb = r.view.BYTES_PER_ELEMENT;
    if (valueBytes !== (b - a) * eb) {
      fail(`${me}: ${peer} sent ${valueBytes} bytes for ring step ${step} of chunk ${c} (expected ${(b - a) * eb})`);
      return null;
    }
    return {r, step, c, a, add: step < r.plan.firstGatherStep,
      bytes: new Uint8Array(r.view.buffer, r.view.byteOffset + a * eb, (b - a) * eb)};
  }

  /** An element split between two pieces of a frame. */
  const carry = new Uint8Array(8);
  /** Aligned room for a piece whose values are not aligned in the socket's buffer. */
  let scratch = new ArrayBuffer(1 << 17);
  const room = (bytes: number) => {
    if (scratch.byteLength < bytes) scratch = new ArrayBuffer(bytes);
    return scratch;
  };
  const addAt = (L: Landing, index: number, src: ArrayBufferLike, at: number, count: number) => {
    if (L.r.float32) add32(L.r.view as Float32Array, L.a + index, new Float32Array(src, at, count));
    else add64(L.r.view as Float64Array, L.a + index, new Float64Array(src, at, count));
  };

  /**
   * Puts bytes [off, off + piece.length) of a frame's values in place: added to the data area
   * or copied into it, straight from the socket's buffer.
   */
  function put(L: Landing, off: number, piece: Uint8Array): void {
    if (!L.add) {
      // V8 copies into shared memory word by word only when source and destination are equally
      // aligned (else byte by byte, several times slower): realign unaligned pieces first.
      const d = (L.bytes.byteOffset + off) % 8;
      if (piece.byteOffset % 8 === d) L.bytes.set(piece, off);
      else {
        const aligned = new Uint8Array(room(d + piece.length), d, piece.length);
        aligned.set(piece);
        L.bytes.set(aligned, off);
      }
      return;
    }
    const eb = L.r.view.BYTES_PER_ELEMENT;
    let p = 0;
    const part = off % eb;
    if (part) { // the rest of an element begun in the previous piece
      p = Math.min(eb - part, piece.length);
      carry.set(piece.subarray(0, p), part);
      if (part + p < eb) return;
      addAt(L, (off - part) / eb, carry.buffer, 0, 1);
    }
    const whole = Math.floor((piece.length - p) / eb);
    if (whole > 0) {
      const start = piece.byteOffset + p;
      if (start % eb === 0) {
        addAt(L, (off + p) / eb, piece.buffer, start, whole);
      } else {
        new Uint8Array(room(whole * eb), 0, whole * eb).set(piece.subarray(p, p + whole * eb));
        addAt(L, (off + p) / eb, scratch, 0, whole);
      }
      p += whole * eb;
    }
    if (p < piece.length) carry.set(piece.subarray(p), 0);
  }

  /** Chunk `L.c` is in for its step: forward it (or the lane is done). */
  function advance(L: Landing): void {
    const r = L.r;
    r.nextStep[L.c]++;
    if (L.step + 1 < r.plan.steps) send(r, L.step + 1, L.c);
    else r.lanesLeft--;
    finishIfDone(r);
  }

  /** A whole, authenticated RING frame of the predecessor (encrypted, or arrived before its all-reduce started). */
  function receive(body: Buffer): void {
    // Every frame of the current all-reduce is in (it only waits for its writes): this one
    // belongs to the next.
    if (run === null || run.lanesLeft === 0) {
      early.push(body);
      earlyBytes += body.length;
      if (earlyBytes > ctx.maxMessageBytes + (1 << 20)) {
        fail(`${me}: rank ${prev} sent more ring data (${earlyBytes} bytes) than one all-reduce ahead of this rank`);
      }
      return;
    }
    if (body.length < RING_HEADER) return fail(`${me}: rank ${prev} sent a malformed ring frame`);
    const L = land(run, body, body.length - RING_HEADER);
    if (!L) return;
    put(L, 0, body.subarray(RING_HEADER));
    advance(L);
  }

  /** The header and the tag of the signed frame being streamed (one at a time per connection). */
  const top = Buffer.alloc(RING_HEADER);
  const tag = Buffer.alloc(P.TAG);

  /**
   * Takes a signed RING frame of `length` payload bytes piece by piece as the socket delivers
   * it: each piece goes into the GMAC and straight to its place in the data area (no
   * reassembly, no allocation). Nothing is forwarded and the lane does not advance before the
   * tag has been checked; a frame that fails it fails the group, so values added before the
   * check never reach the caller. A frame for an all-reduce this rank has not started yet is
   * kept whole (as before).
   */
  function ringSink(head: Buffer, length: number, onBad: () => void) {
    const checker = inLink!.session.signedChecker(head);
    const valuesEnd = length - P.TAG;
    let pos = 0;
    let L: Landing | null = null;
    let whole: Buffer | null = null;
    let dead = length < RING_HEADER + P.TAG;
    if (dead) fail(`${me}: rank ${prev} sent a malformed ring frame`);
    return {
      data(bytes: Buffer): void {
        for (let p = 0; p < bytes.length && !dead;) {
          if (ctx.stopped()) { dead = true; return; }
          if (pos < RING_HEADER) {
            const k = Math.min(RING_HEADER - pos, bytes.length - p);
            top.set(bytes.subarray(p, p + k), pos);
            pos += k;
            p += k;
            if (pos < RING_HEADER) continue;
            checker.update(top);
            if (run === null || run.lanesLeft === 0) {
              whole = Buffer.allocUnsafe(valuesEnd);
              top.copy(whole, 0);
            } else {
              L = land(run, top, valuesEnd - RING_HEADER);
              if (!L) dead = true;
            }
          } else if (pos < valuesEnd) {
            const k = Math.min(valuesEnd - pos, bytes.length - p);
            const piece = bytes.subarray(p, p + k);
            checker.update(piece);
            if (whole) whole.set(piece, pos);
            else put(L!, pos - RING_HEADER, piece);
            pos += k;
            p += k;
          } else {
            const k = Math.min(length - pos, bytes.length - p);
            bytes.copy(tag, pos - valuesEnd, p, p + k);
            pos += k;
            p += k;
          }
        }
      },
      end(): void {
        if (dead || ctx.stopped()) return;
        if (!checker.check(tag)) return onBad();
        if (whole) receive(whole);
        else advance(L!);
      },
    };
  }

  /** Runs ring all-reduce `seq` of the `n` values in the mailbox (in place); DONE when finished. */
  function allReduce(seq: number, n: number, float32: boolean): void {
    if (!inLink || !outLink) { queued.push(() => allReduce(seq, n, float32)); return; }
    const bytes = float32 ? 4 : 8;
    const plan = ringPlan(n, W, Math.max(1, Math.floor(table!.chunkBytes / bytes)));
    const t0 = Date.now();
    const r: Run = {
      seq, n, float32, plan, view: float32 ? box.data32.subarray(0, n) : box.data.subarray(0, n),
      nextStep: new Int32Array(plan.chunks), lanesLeft: plan.chunks, unflushed: 0, sent: 0, t0,
      timer: setTimeout(() => {
        const got = Array.from(r.nextStep).reduce((x, y) => x + y, 0);
        fail(`${me}: timed out after ${Date.now() - t0} ms (limit ${ctx.timeoutMs} ms) in ring all-reduce #${seq} ` +
          `waiting for rank(s) ${prev} (received ${got} of ${plan.chunks * plan.steps} chunks)`);
      }, ctx.timeoutMs),
    };
    run = r;
    for (let c = 0; c < plan.chunks; c++) send(r, 0, c);
    const waiting = early;
    early = [];
    earlyBytes = 0;
    for (const body of waiting) if (run === r) receive(body);
  }

  /** Parses rank 0's WELCOME payload: the ring table, or null for a star-only group. */
  function parseTable(payload: Buffer): RingTable | null | string {
    if (payload.length === 0) return null;
    let t: RingTable;
    try { t = JSON.parse(payload.toString('utf8')); } catch { return 'malformed WELCOME'; }
    const okHost = (h: unknown) => typeof h === 'string' && /^[0-9A-Za-z.:%_-]{1,255}$/.test(h);
    const okPort = (p: unknown) => Number.isInteger(p) && (p as number) >= 1 && (p as number) <= 65535;
    if (typeof t !== 'object' || t === null || typeof t.group !== 'string' || !/^[0-9a-f]{32}$/.test(t.group) ||
        !Number.isInteger(t.thresholdBytes) || t.thresholdBytes < -1 ||
        !Number.isInteger(t.chunkBytes) || t.chunkBytes < 8 || t.chunkBytes > 64 * 1024 * 1024 || typeof t.encrypt !== 'boolean' ||
        !Array.isArray(t.hosts) || t.hosts.length !== W ||
        !t.hosts.every((e) => Array.isArray(e) && e.length === 2 && okHost(e[0]) && okPort(e[1]))) {
      return 'malformed ring table in WELCOME';
    }
    return t;
  }

  return {
    listen,
    parseTable,
    /** Whether an all-reduce of `bytes` goes round the ring. */
    uses(bytes: number): boolean {
      return table !== null && table.thresholdBytes >= 0 && bytes >= table.thresholdBytes;
    },
    /** Connects the ring described by rank 0's table; `ready` once both links are authenticated. */
    connect(t: RingTable, ready: () => void): void {
      table = t;
      // Requests posted before the links were up run once they are.
      onReady = () => {
        ready();
        const q = queued;
        queued = [];
        for (const f of q) f();
      };
      for (const f of onTable) f();
      onTable = [];
      dial();
    },
    allReduce,
    whenIdle,
    /** What the ring is still waiting for (for the rendezvous timeout). */
    detail(): string {
      if (!table) return '';
      const waits = [inLink ? '' : `the ring connection from rank ${prev}`, outLink ? '' : `the ring connection to rank ${next}`]
        .filter((x) => x);
      return (waits.length ? `; waiting for ${waits.join(' and ')}` : '') +
        (rejections.length ? `; ring port rejected: ${rejections.join('; ')}` : '');
    },
    close(): void {
      for (const t of timers) clearTimeout(t);
      if (run) clearTimeout(run.timer);
      server?.close();
    },
  };
}
