/**
 * The network side of the TCP transport, run in a helper worker thread so that the compute
 * thread can block in `Atomics.wait` while sockets make progress.
 *
 * `tcpWorkerMain` is started from its source text (`new Worker(code, {eval: true})`), so it
 * must stay self-contained: it uses its arguments (the protocol of tcp_protocol.ts and the
 * mailbox of tcp_mailbox.ts) and what it `require`s from Node.
 *
 * Rank 0's thread hosts the rendezvous on MASTER_ADDR:MASTER_PORT; the others connect to it and
 * authenticate mutually (see tcp_protocol.ts). Rank 0 drops connections that have not
 * authenticated within `handshakeMs`, keeps at most `maxPending` of them (the oldest goes
 * first), and stops listening once every rank has joined. A small all-reduce (the star) sends
 * each rank's array to rank 0, which sums the arrays in rank order and sends the result back;
 * one of at least the ring threshold goes round the ring of tcp_ring.ts instead (each rank
 * announces its ring listener in its HELLO, rank 0 sends the table and the threshold in its
 * WELCOME; every rank is ready once its two ring connections are authenticated). Any failure
 * is recorded in the mailbox (sticky, first cause wins) and sent to every live rank. Arrays
 * are float64 or float32, summed in their own precision.
 */
import type {TcpMailbox} from './tcp_mailbox.js';
import type {TcpProtocol} from './tcp_protocol.js';
import type {RingTable, TcpRing, tcpRing as TcpRingFn} from './tcp_ring.js';
import type {ringPlan as RingPlanFn} from './ring_plan.js';

export interface TcpWorkerData {
  rank: number;
  worldSize: number;
  masterAddr: string;
  masterPort: number;
  token: string;
  timeoutMs: number;
  maxMessageBytes: number;
  /** Deadline for a connection's handshake. */
  handshakeMs: number;
  /** Rank 0: most connections that may be mid-handshake at once (also each ring listener). */
  maxPending: number;
  /** Port of this rank's ring listener; 0: one the OS picks. */
  ringPort: number;
  /** Rank 0: all-reduces of at least this many bytes go round the ring; -1: never. */
  ringThresholdBytes: number;
  /** Rank 0: most bytes of values in one ring frame. */
  ringChunkBytes: number;
  /** Rank 0: whether ring frames are encrypted (else authenticated only). */
  ringEncrypt: boolean;
  mailbox: SharedArrayBuffer;
}

export function tcpWorkerMain(P: TcpProtocol, box: TcpMailbox, makeRing: typeof TcpRingFn, ringPlan: typeof RingPlanFn): void {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const {workerData} = require('node:worker_threads') as typeof import('node:worker_threads');
  const net = require('node:net') as typeof import('node:net');
  const crypto = require('node:crypto') as typeof import('node:crypto');
  /* eslint-enable @typescript-eslint/no-require-imports */
  type Socket = import('node:net').Socket;
  type Session = ReturnType<TcpProtocol['session']>;
  const cfg = workerData as TcpWorkerData;
  const {T} = P;
  const {W, S, ctl} = box;
  const me = `rank ${cfg.rank}`;
  const where = `${cfg.masterAddr}:${cfg.masterPort}`;
  const startedAt = Date.now();
  // An all-reduce payload: sequence number, 1 if float32 else 0 (two uint32), then the values.
  const ARRAY_HEADER = 8;
  const sealedLimit = cfg.maxMessageBytes + ARRAY_HEADER + P.TAG;
  let key: Buffer;
  let stopped = false;
  /** Whether this thread recorded the failure (else the compute thread did). */
  let failedHere = false;

  const fail = (message: string) => { if (box.fail(message)) failedHere = true; };
  process.on('uncaughtException', (e) => {
    fail(`${me}: the network thread crashed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
  process.on('exit', () => { if (!stopped) fail(`${me}: the network thread stopped unexpectedly`); });

  const sockets = new Set<Socket>();
  let server: import('node:net').Server | null = null;
  const timers: Array<ReturnType<typeof setTimeout>> = [];
  let ring: TcpRing | null = null;

  /** The ring of this rank; `groupFail` tells every live rank why the group failed. */
  const startRing = (groupFail: (message: string) => void) => {
    ring = makeRing(P, box, ringPlan, {
      rank: cfg.rank, worldSize: cfg.worldSize, timeoutMs: cfg.timeoutMs, handshakeMs: cfg.handshakeMs,
      maxPending: cfg.maxPending, maxMessageBytes: cfg.maxMessageBytes, key, net, sockets, groupFail, stopped: () => stopped,
    });
    return ring;
  };

  /** The group is formed and the ring (if any) connected: collectives may start. */
  const ready = () => {
    clearTimeout(timers[0]);
    box.move(S.CONNECTING, S.READY);
  };

  /**
   * Flushes what is queued on every socket (a goodbye or the failure), closes them, tells the
   * compute thread (which waits for it in close()), and ends the thread.
   */
  function stop(): void {
    if (stopped) return;
    stopped = true;
    for (const t of timers) clearTimeout(t);
    server?.close();
    ring?.close();
    let left = sockets.size + 1;
    const flushed = () => {
      if (--left > 0) return;
      Atomics.store(ctl, W.STOPPED, 1);
      Atomics.notify(ctl, W.STOPPED);
    };
    for (const s of sockets) s.end(flushed);
    flushed();
    setTimeout(() => { left = 1; flushed(); process.exit(0); }, 500).unref();
  }

  type Values = Float64Array | Float32Array;
  function arrayPayload(seq: number, values: Values): Buffer {
    const p = Buffer.alloc(ARRAY_HEADER + values.byteLength);
    p.writeUInt32BE(seq >>> 0, 0);
    p.writeUInt32BE(values instanceof Float32Array ? 1 : 0, 4);
    Buffer.from(values.buffer, values.byteOffset, values.byteLength).copy(p, ARRAY_HEADER);
    return p;
  }

  function readArray(payload: Buffer): {seq: number; values: Values} | null {
    if (payload.length < ARRAY_HEADER) return null;
    const float32 = payload.readUInt32BE(4);
    const bytes = float32 === 1 ? 4 : float32 === 0 ? 8 : 0;
    if (bytes === 0 || (payload.length - ARRAY_HEADER) % bytes !== 0) return null;
    const n = (payload.length - ARRAY_HEADER) / bytes;
    const values = bytes === 4 ? new Float32Array(n) : new Float64Array(n);
    payload.copy(Buffer.from(values.buffer), 0, ARRAY_HEADER);
    return {seq: payload.readUInt32BE(0), values};
  }

  function publishResult(values: Values): void {
    if (Atomics.load(ctl, W.STATE) !== S.BUSY) return;
    box.view().set(values);
    box.move(S.BUSY, S.DONE);
  }

  /**
   * Calls `onRequest` with each array the compute thread posts for the star (the ring takes the
   * others); `onEnd(message)` once it closes the transport (message null) or fails the group
   * itself (its message).
   */
  function serveRequests(onRequest: (seq: number, values: Values) => void,
                         onEnd: (message: string | null) => void): void {
    let seen = Atomics.load(ctl, W.REQUESTS);
    const wait = () => {
      const w = (Atomics as unknown as {waitAsync(a: Int32Array, i: number, v: number):
        {async: boolean; value: Promise<string> | string}}).waitAsync(ctl, W.REQUESTS, seen);
      const next = () => {
        if (stopped) return;
        const now = Atomics.load(ctl, W.REQUESTS);
        if (now < 0) {
          const error = box.error();
          onEnd(error !== null && !failedHere ? error : null);
          return;
        }
        if (now !== seen) {
          seen = now;
          if (box.error() === null) {
            const n = Atomics.load(ctl, W.LENGTH);
            const float32 = Atomics.load(ctl, W.FLOAT32) === 1;
            if (ring?.uses(n * (float32 ? 4 : 8))) ring.allReduce(now - 1, n, float32);
            else onRequest(now - 1, box.view().slice(0, n));
          }
        }
        wait();
      };
      if (w.async) void (w.value as Promise<string>).then(next); else next();
    };
    // The compute thread may have closed the transport while the key was being derived.
    if (Atomics.load(ctl, W.REQUESTS) < 0) onEnd(null); else wait();
  }

  // The rendezvous deadline; `pendingDetail` says what was still missing.
  let pendingDetail = () => '';
  timers.push(setTimeout(() => {
    fail(`${me}: rendezvous at ${where} did not complete within ${Date.now() - startedAt} ms ` +
      `(limit ${cfg.timeoutMs} ms)${pendingDetail()}${ring?.detail() ?? ''}`);
    stop();
  }, cfg.timeoutMs));

  function hub(): void {
    const peers = new Map<number, {socket: Socket; session: Session; addr: string; ring: [string, number] | null}>();
    let ringPort = 0;
    /** Connections still in their handshake, oldest first. */
    const pending = new Set<Socket>();
    const rejections: string[] = [];
    let rejected = 0;
    let joined = false;
    const note = (why: string) => {
      rejected++;
      rejections.push(why);
      if (rejections.length > 5) rejections.shift();
    };
    pendingDetail = () => {
      const missing = Array.from({length: cfg.worldSize - 1}, (_, i) => i + 1).filter((r) => !peers.has(r));
      return `: waiting for rank(s) ${missing.join(', ')}` +
        (rejected ? `; rejected ${rejected} connection(s), last: ${rejections.join('; ')}` : '');
    };

    // The all-reduce in progress.
    let slots: Array<Values | null> = [];
    let slotSeq = -1;
    let unflushed: Values | null = null;
    let collectiveTimer: ReturnType<typeof setTimeout> | undefined;

    /**
     * Fails the group: tells every peer why, records it, stops. ERROR fails the others at once;
     * BYE (a rank left or its process ended) once their ring all-reduce in progress, if any, is
     * done: that rank may have done its part of it (if it had not, its ring neighbours see it).
     */
    const groupFail = (message: string, type: number = T.ERROR) => {
      if (stopped) return;
      // A sum already on its way to the peers is rank 0's valid result too.
      if (unflushed) publishResult(unflushed);
      for (const p of peers.values()) p.socket.write(p.session.seal(type, Buffer.from(message, 'utf8')));
      fail(message);
      clearTimeout(collectiveTimer);
      stop();
    };

    const contribute = (rank: number, seq: number, values: Values) => {
      if (stopped) return;
      if (slotSeq === -1) {
        slotSeq = seq;
        slots = new Array(cfg.worldSize).fill(null);
        const t0 = Date.now();
        collectiveTimer = setTimeout(() => {
          const missing = slots.map((p, r) => (p === null ? r : -1)).filter((r) => r >= 0);
          groupFail(`timed out after ${Date.now() - t0} ms (limit ${cfg.timeoutMs} ms) in all-reduce ` +
            `#${slotSeq} waiting for rank(s) ${missing.join(', ')}`);
        }, cfg.timeoutMs);
      }
      if (seq !== slotSeq || slots[rank] !== null) {
        return groupFail(`collective mismatch: rank ${rank} sent all-reduce #${seq} while #${slotSeq} is in progress`);
      }
      const first = slots.findIndex((p) => p !== null);
      const sameType = first < 0 || (slots[first] instanceof Float32Array) === (values instanceof Float32Array);
      const kind = (v: Values) => `${v.length}${sameType ? '' : v instanceof Float32Array ? ' float32' : ' float64'} values`;
      if (first >= 0 && (!sameType || slots[first]!.length !== values.length)) {
        return groupFail(`collective mismatch in all-reduce #${seq}: rank ${rank} sent ${kind(values)}, ` +
          `rank ${first} sent ${kind(slots[first]!)}`);
      }
      slots[rank] = values;
      if (slots.some((p) => p === null)) return;
      clearTimeout(collectiveTimer);
      // In the arrays' own precision, in rank order: the same bits on every rank.
      const sum = values instanceof Float32Array ? new Float32Array(values.length) : new Float64Array(values.length);
      for (const p of slots) for (let i = 0; i < sum.length; i++) sum[i] += p![i];
      slotSeq = -1;
      slots = [];
      // Rank 0 returns only once every peer's result is handed to the OS, so that a rank 0
      // that exits right after its last collective cannot cut the others off.
      const payload = arrayPayload(seq, sum);
      let left = peers.size;
      unflushed = sum;
      const flushed = () => {
        if (--left > 0) return;
        unflushed = null;
        publishResult(sum);
      };
      if (left === 0) { left = 1; flushed(); }
      for (const p of peers.values()) p.socket.write(p.session.seal(T.RESULT, payload), flushed);
    };

    const allJoined = () => {
      joined = true;
      server?.close();
      for (const s of pending) s.destroy();
      pending.clear();
      // The ring needs every rank's listener (a peer of an older version has none: star only).
      const hosts: Array<[string, number] | null> = [ringPort ? [cfg.masterAddr, ringPort] : null];
      for (let r = 1; r < cfg.worldSize; r++) hosts.push(peers.get(r)!.ring);
      const table: RingTable | null = cfg.worldSize > 1 && hosts.every((h) => h !== null) ? {
        group: crypto.randomBytes(16).toString('hex'),
        thresholdBytes: cfg.ringThresholdBytes, chunkBytes: cfg.ringChunkBytes, encrypt: cfg.ringEncrypt, hosts: hosts as Array<[string, number]>,
      } : null;
      const welcome = table ? Buffer.from(JSON.stringify(table)) : Buffer.alloc(0);
      for (const p of peers.values()) p.socket.write(p.session.seal(T.WELCOME, welcome));
      if (table) ring!.connect(table, ready); else ready();
    };

    server = net.createServer((socket) => {
      if (stopped || joined) { socket.destroy(); return; }
      if (pending.size >= cfg.maxPending) {
        const oldest = pending.values().next().value!;
        pending.delete(oldest);
        oldest.destroy();
        note(`dropped the oldest unauthenticated connection (more than ${cfg.maxPending} at once)`);
      }
      pending.add(socket);
      sockets.add(socket);
      socket.setNoDelay(true);
      const addr = `${socket.remoteAddress}:${socket.remotePort}`;
      let phase = 0; // 0: HELLO expected, 1: PROOF expected, 2: authenticated peer
      let claimed = -1;
      let ringAddr: [string, number] | null = null;
      let hello: Buffer = Buffer.alloc(0);
      let nonce: Buffer = Buffer.alloc(0);
      const who = () => (claimed >= 0 ? `${addr} (claims rank ${claimed})` : addr);
      const drop = (why: string, reply: boolean) => {
        note(`${who()}: ${why}`);
        clearTimeout(deadline);
        pending.delete(socket);
        phase = -1;
        if (reply) socket.end(P.frame(T.REJECT, `rejected by rank 0: ${why}`), () => socket.destroy());
        else socket.destroy();
      };
      const deadline = setTimeout(() => drop(`no handshake within ${cfg.handshakeMs} ms`, false), cfg.handshakeMs);

      const onFrame = (type: number, head: Buffer, payload: Buffer) => {
        if (phase === 0) {
          if (type !== T.HELLO) return drop('expected a HELLO frame', true);
          const m = P.parse(payload, ['v', 'rank', 'worldSize', 'nonce']);
          if (typeof m === 'string') return drop(m, true);
          const r = m.rank;
          if (typeof r !== 'number' || !Number.isInteger(r) || r < 1 || r >= cfg.worldSize) {
            return drop(`invalid rank ${JSON.stringify(r)} (world size ${cfg.worldSize})`, true);
          }
          if (m.worldSize !== cfg.worldSize) return drop(`world size ${JSON.stringify(m.worldSize)} != ${cfg.worldSize}`, true);
          if (peers.has(r)) return drop(`rank ${r} already joined`, true);
          const rp = m.ringPort, rh = m.ringHost;
          if (rp !== undefined && !(Number.isInteger(rp) && (rp as number) >= 1 && (rp as number) <= 65535 &&
              typeof rh === 'string' && /^[0-9A-Za-z.:%_-]{1,255}$/.test(rh))) {
            return drop('bad ring listener address in HELLO', true);
          }
          ringAddr = rp === undefined ? null : [rh as string, rp as number];
          claimed = r;
          hello = Buffer.from(payload);
          const c = P.challenge(key, hello);
          nonce = c.nonce;
          phase = 1;
          socket.write(P.frame(T.CHALLENGE, c.payload));
          return;
        }
        if (phase === 1) {
          if (type === T.REJECT) return drop(`wrong token: it could not verify rank 0's proof (${P.text(payload)})`, false);
          if (type !== T.PROOF) return drop('expected a PROOF frame', true);
          if (!P.verify(P.rankProof(key, hello, nonce), payload)) return drop('wrong token (its proof does not match)', true);
          if (peers.has(claimed)) return drop(`rank ${claimed} already joined`, true);
          clearTimeout(deadline);
          pending.delete(socket);
          peers.set(claimed, {socket, session: P.session(key, hello, nonce, true), addr, ring: ringAddr});
          phase = 2;
          if (peers.size === cfg.worldSize - 1) allJoined();
          return;
        }
        if (phase !== 2 || stopped) return;
        const peer = `rank ${claimed} at ${addr}`;
        if (type < P.FIRST_SEALED) return groupFail(`${peer} sent an unsealed frame (type ${type}) after the handshake`);
        const body = peers.get(claimed)!.session.open(head, payload);
        if (body === null) {
          return groupFail(`a frame from ${peer} failed authentication (forged, tampered or replayed): ` +
            'dropped the connection; the group cannot continue without it');
        }
        if (type === T.CONTRIB && joined) {
          const a = readArray(body);
          if (!a) return groupFail(`${peer} sent a malformed all-reduce frame`);
          return contribute(claimed, a.seq, a.values);
        }
        if (type === T.ERROR || type === T.BYE) {
          const why = type === T.BYE ? `rank ${claimed} left the group (destroy()); collectives cannot complete without it`
            : P.text(body);
          // A rank that left has done its part of the ring all-reduce in progress: let it finish.
          if (joined && type === T.BYE) return ring!.whenIdle(() => groupFail(why, T.BYE), why);
          if (joined) return groupFail(why);
          // Gone before the group formed: it may come back.
          peers.delete(claimed);
          phase = -1;
          note(`${peer} left before the group formed: ${why}`);
          socket.destroy();
          return;
        }
        groupFail(`${peer} sent an unexpected frame (type ${type})`);
      };
      socket.on('data', P.reader((type) => (phase === 2 && type >= P.FIRST_SEALED ? sealedLimit : P.HANDSHAKE_LIMIT), onFrame,
        (why) => {
          if (phase !== 2) return drop(why, true);
          groupFail(`rank ${claimed} at ${addr} sent a malformed frame: ${why}` +
            (why.includes('exceeds') ? ' (TFJS_NORMS_MAX_MESSAGE_BYTES must be the same on every rank)' : ''));
        }));
      socket.on('error', () => { /* handled by close */ });
      socket.on('close', () => {
        clearTimeout(deadline);
        pending.delete(socket);
        sockets.delete(socket);
        if (phase !== 2 || peers.get(claimed)?.socket !== socket) return;
        peers.delete(claimed);
        // After its part of a ring all-reduce, a rank may exit before its neighbours are done.
        const why = `rank ${claimed} at ${addr} closed the connection (process gone?)`;
        if (joined) ring!.whenIdle(() => groupFail(why, T.BYE), why);
        else if (!stopped) note(`rank ${claimed} at ${addr} closed the connection before the group formed`);
      });
    });
    server.on('error', (e) => {
      fail(`${me}: cannot listen on ${where}: ${e.message}`);
      stop();
    });
    startRing(groupFail).listen(cfg.masterAddr, cfg.ringPort).then((port) => {
      ringPort = port;
      if (stopped) return;
      server!.listen(cfg.masterPort, cfg.masterAddr, () => { if (cfg.worldSize === 1) allJoined(); });
    }, (e: Error) => { fail(e.message); stop(); });
    serveRequests((seq, values) => contribute(0, seq, values), (message) => {
      if (message !== null) return groupFail(message);
      for (const p of peers.values()) p.socket.write(p.session.seal(T.BYE, Buffer.alloc(0)));
      stop();
    });
  }

  function joiner(): void {
    let socket: Socket | null = null;
    let session: Session | null = null;
    let joined = false;
    let inFlight: {seq: number; length: number; float32: boolean} | null = null;
    let lastAttempt = 'no connection yet';
    pendingDetail = () => `; last attempt: ${lastAttempt}`;
    /** A definite answer at the rendezvous (impostor, rejection): no more attempts. */
    const giveUp = (message: string) => { fail(message); stop(); };

    /** This rank's ring listener, on the address it reaches rank 0 from (started at the first connection). */
    let ringListener: Promise<[string, number]> | null = null;
    const ringGroupFail = (message: string) => {
      if (stopped) return;
      fail(message);
      if (socket && session) socket.write(session.seal(T.ERROR, Buffer.from(message, 'utf8')));
      stop();
    };

    const connect = () => {
      if (stopped || box.error() !== null) return;
      const s = net.connect(cfg.masterPort, cfg.masterAddr);
      sockets.add(s);
      s.setNoDelay(true);
      let hello: Buffer = Buffer.alloc(0);
      let phase = 0; // 0: CHALLENGE expected, 1: proof sent, 2: joined
      let sess: Session | null = null;
      let deadline: ReturnType<typeof setTimeout> | undefined;
      s.on('connect', () => {
        lastAttempt = `the listener at ${where} accepted the connection but did not complete the handshake`;
        const host = s.localAddress ?? '127.0.0.1';
        ringListener ??= startRing(ringGroupFail).listen(host, cfg.ringPort).then((port) => [host, port]);
        ringListener.then(([ringHost, ringPort]) => {
          if (s.destroyed || stopped) return;
          hello = P.hello(cfg.rank, cfg.worldSize, {ringHost, ringPort});
          s.write(P.frame(T.HELLO, hello));
        }, (e: Error) => giveUp(e.message));
        deadline = setTimeout(() => {
          lastAttempt = `the listener at ${where} did not complete the handshake within ${cfg.handshakeMs} ms`;
          s.destroy();
        }, cfg.handshakeMs);
      });
      const notRank0 = (why: string) => giveUp(`${me}: the listener at ${where} is not a tfjs-norms rank 0 (${why})`);
      const onFrame = (type: number, head: Buffer, payload: Buffer) => {
        if (stopped) return;
        if (type === T.REJECT && phase < 2) {
          return giveUp(`${me}: rejected at the rendezvous by the listener at ${where}: ${P.text(payload)}`);
        }
        if (phase === 0) {
          if (type !== T.CHALLENGE) return notRank0(`it answered the handshake with frame type ${type}`);
          const c = P.parse(payload, ['nonce', 'proof']);
          if (typeof c === 'string') return notRank0(c);
          const nonce = Buffer.from(c.nonce as string, 'hex');
          if (!P.verify(P.hubProof(key, hello, nonce), Buffer.from(c.proof as string, 'hex'))) {
            s.end(P.frame(T.REJECT, `rank ${cfg.rank} could not verify the proof of rank 0`));
            return giveUp(`${me}: the listener at ${where} failed authentication: it could not prove that it ` +
              'knows TFJS_NORMS_TOKEN (an impostor on the port, or rank 0 runs with another token); ' +
              'nothing secret was sent to it');
          }
          clearTimeout(deadline);
          sess = P.session(key, hello, nonce, false);
          phase = 1;
          s.write(P.frame(T.PROOF, P.rankProof(key, hello, nonce)));
          return;
        }
        const body = type >= P.FIRST_SEALED ? sess!.open(head, payload) : null;
        if (body === null) {
          fail(`${me}: a frame from rank 0 at ${where} failed authentication (forged, tampered or replayed, ` +
            `type ${type}): dropped the connection`);
          return stop();
        }
        if (type === T.WELCOME && phase === 1) {
          phase = 2;
          joined = true;
          socket = s;
          session = sess;
          const table = ring!.parseTable(body);
          if (typeof table === 'string') {
            fail(`${me}: rank 0 at ${where} sent a ${table}`);
            return stop();
          }
          if (table) ring!.connect(table, ready); else ready();
        } else if (type === T.RESULT && phase === 2) {
          const a = readArray(body);
          if (!a || !inFlight || a.seq !== inFlight.seq || a.values.length !== inFlight.length ||
              a.values instanceof Float32Array !== inFlight.float32) {
            fail(`${me}: rank 0 sent a result that does not match all-reduce ` +
              `#${inFlight?.seq ?? 'none'} (${a ? `#${a.seq}, ${a.values.length} values` : 'malformed'})`);
            return stop();
          }
          inFlight = null;
          publishResult(a.values);
        } else if (type === T.ERROR) {
          fail(P.text(body));
          stop();
        } else if (type === T.BYE) {
          // Rank 0 left, or tells of a rank that did: after the ring all-reduce in progress, if any.
          const why = body.length > 0 ? P.text(body) : `${me}: rank 0 closed the group (destroy()); collectives cannot complete without it`;
          ring!.whenIdle(() => { fail(why); stop(); }, why);
        } else {
          fail(`${me}: rank 0 at ${where} sent an unexpected frame (type ${type})`);
          stop();
        }
      };
      s.on('data', P.reader((type) => (phase > 0 && type >= P.FIRST_SEALED ? sealedLimit : P.HANDSHAKE_LIMIT), onFrame,
        (why) => {
          if (phase === 0) return notRank0(why);
          fail(`${me}: malformed frame from rank 0 at ${where}: ${why}`);
          stop();
        }));
      s.on('error', (e: NodeJS.ErrnoException) => { lastAttempt = `${e.code ?? e.message} from ${where}`; });
      s.on('close', () => {
        clearTimeout(deadline);
        sockets.delete(s);
        if (stopped) return;
        if (phase < 2) { // rank 0 not listening yet, or this attempt was dropped: try again
          timers.push(setTimeout(connect, 100));
          return;
        }
        const why = `${me}: rank 0 at ${where} closed the connection (process gone?)`;
        ring!.whenIdle(() => { fail(why); stop(); }, why);
      });
    };
    connect();
    serveRequests((seq, values) => {
      if (!joined || socket === null || session === null) { fail(`${me}: not connected`); return stop(); }
      inFlight = {seq, length: values.length, float32: values instanceof Float32Array};
      socket.write(session.seal(T.CONTRIB, arrayPayload(seq, values)));
    }, (message) => {
      if (socket && session) socket.write(session.seal(message === null ? T.BYE : T.ERROR, Buffer.from(message ?? '', 'utf8')));
      stop();
    });
  }

  P.deriveKey(cfg.token).then((k) => {
    key = k;
    if (stopped) return;
    if (cfg.rank === 0) hub(); else joiner();
  }, (e: Error) => { fail(`${me}: cannot derive the key from TFJS_NORMS_TOKEN: ${e.message}`); stop(); });
}
