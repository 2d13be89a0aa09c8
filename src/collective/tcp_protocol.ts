/**
 * The TCP transport's wire protocol: framing, the mutual handshake and sealed frames.
 *
 * Self-contained (the network thread is started from source text): it uses nothing but its
 * argument (`node:crypto`) and JavaScript globals.
 *
 * Frames: 12-byte header (magic 'TFNM', type, 3 zero bytes, payload length) and the payload.
 *
 * Handshake (in clear, payloads ≤ 1 KiB): the joining rank sends HELLO {v, rank, worldSize,
 * nonce}; rank 0 answers CHALLENGE {nonce, proof = HMAC(K, 'hub', hello, nonce0)}; the rank
 * checks that proof before it answers PROOF = HMAC(K, 'rank', hello, nonce0). K is scrypt of
 * TFJS_NORMS_TOKEN, so neither the token nor K travels; proofs are compared with
 * `timingSafeEqual`, and fresh 32-byte nonces on both sides make every proof single-use. A
 * listener that does not know the token never gets a proof from a rank.
 *
 * After it, every frame is sealed with AES-256-GCM under a per-connection session key
 * HMAC(K, 'session', hello, nonce0): the header is the associated data and the nonce is the
 * direction plus a frame counter the receiver keeps itself, so a forged, tampered, replayed,
 * reordered or reflected frame fails to open.
 *
 * Ring connections between neighbours (tcp_ring.ts) run the same handshake with the listening
 * rank in rank 0's role, under the scope 'ring': its proofs and session keys are MACs under other
 * labels, so no message of one kind of connection is valid on the other. Their HELLO also names
 * the group (a random id rank 0 sends in its WELCOME), and the listener checks the claimed rank.
 */
export type TcpProtocol = ReturnType<typeof tcpProtocol>;

/** Receives one frame's payload as it arrives (tcp_ring.ts: values go straight to their place). */
export interface FrameSink {
  /** The next bytes of the payload, in order: a view of the socket's buffer, valid during the call. */
  data(bytes: Buffer): void;
  /** The whole payload has been passed to data(). */
  end(): void;
}


export function tcpProtocol(crypto: typeof import('node:crypto')) {
  const MAGIC = 0x54464e4d;
  const VERSION = 2;
  const HEADER = 12;
  const TAG = 16;
  const NONCE = 32;
  /** Frame types: up to REJECT in clear (handshake), from WELCOME on sealed. */
  const T = {HELLO: 1, CHALLENGE: 2, PROOF: 3, REJECT: 4, WELCOME: 5, CONTRIB: 6, RESULT: 7, ERROR: 8, BYE: 9, RING: 10} as const;
  const LAST_TYPE = T.RING;
  const FIRST_SEALED = T.WELCOME;
  /** Largest handshake payload. */
  const HANDSHAKE_LIMIT = 1024;

  function header(type: number, length: number): Buffer {
    const h = Buffer.alloc(HEADER);
    h.writeUInt32BE(MAGIC, 0);
    h.writeUInt8(type, 4);
    h.writeUInt32BE(length, 8);
    return h;
  }

  /** A frame in clear (handshake only). */
  function frame(type: number, payload: Buffer | string): Buffer {
    const p = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
    return Buffer.concat([header(type, p.length), p]);
  }

  /**
   * Splits a byte stream into frames; calls `bad` (once, and stops) on anything malformed.
   * `limit(type)` is the largest payload accepted for that frame type right now. `stream`, when
   * it returns a sink for a frame header, gets that frame's payload piece by piece as it comes
   * (no reassembly); otherwise `onFrame` gets the whole payload.
   */
  function reader(limit: (type: number) => number, onFrame: (type: number, head: Buffer, payload: Buffer) => void,
                  bad: (why: string) => void,
                  stream?: (type: number, head: Buffer, length: number) => FrameSink | null): (chunk: Buffer) => void {
    // Chunks are kept as they come and each frame is copied out once (joining the buffer on
    // every chunk would copy a large frame once per chunk).
    const chunks: Buffer[] = [];
    let size = 0;
    let dead = false;
    /** The frame being streamed and how many of its payload bytes are still to come. */
    let sink: FrameSink | null = null;
    let left = 0;
    const take = (n: number): Buffer => {
      size -= n;
      if (chunks[0].length >= n) {
        const b = chunks[0].subarray(0, n);
        chunks[0] = chunks[0].subarray(n);
        if (chunks[0].length === 0) chunks.shift();
        return b;
      }
      const out = Buffer.allocUnsafe(n);
      for (let off = 0; off < n;) {
        const c = chunks[0];
        const k = Math.min(c.length, n - off);
        c.copy(out, off, 0, k);
        off += k;
        if (k === c.length) chunks.shift(); else chunks[0] = c.subarray(k);
      }
      return out;
    };
    return (chunk: Buffer) => {
      if (dead) return;
      chunks.push(chunk);
      size += chunk.length;
      while (!dead) {
        if (sink) {
          while (left > 0 && size > 0) {
            const k = Math.min(chunks[0].length, left);
            left -= k;
            sink.data(take(k));
          }
          if (left > 0) return;
          const s = sink;
          sink = null;
          s.end();
          continue;
        }
        if (size < HEADER) return;
        const h = chunks[0].length >= HEADER ? chunks[0] : Buffer.concat(chunks, HEADER);
        const type = h.readUInt8(4);
        const len = h.readUInt32BE(8);
        let why = '';
        if (h.readUInt32BE(0) !== MAGIC) why = 'bad magic (not a tfjs-norms peer)';
        else if (type < T.HELLO || type > LAST_TYPE || h.readUIntBE(5, 3) !== 0) why = `unknown frame type ${type}`;
        else if (len > limit(type)) why = `frame of ${len} bytes exceeds the limit of ${limit(type)}`;
        if (why) { dead = true; bad(why); return; }
        const s = stream?.(type, Buffer.from(h.subarray(0, HEADER)), len) ?? null;
        if (s) {
          take(HEADER);
          sink = s;
          left = len;
          continue;
        }
        if (size < HEADER + len) return;
        const head = Buffer.from(take(HEADER));
        onFrame(type, head, take(len));
      }
    };
  }

  /** The long-term key K (scrypt: a captured proof is slow to test against guessed tokens). */
  function deriveKey(token: string): Promise<Buffer> {
    return new Promise((resolve, reject) => crypto.scrypt(token, 'tfjs-norms collective v2', 32,
      {N: 1 << 14, r: 8, p: 1}, (e, k) => (e ? reject(e) : resolve(k))));
  }

  const mac = (key: Buffer, label: string, hello: Buffer, nonce: Buffer) =>
    crypto.createHmac('sha256', key).update(`tfjs-norms ${label}\0`).update(hello).update(nonce).digest();

  /** Constant-time comparison of a received proof with the expected one. */
  function verify(expected: Buffer, got: Buffer): boolean {
    return got.length === expected.length && crypto.timingSafeEqual(expected, got);
  }

  /** Printable text of a peer's message (it may come from anyone before the handshake). */
  function text(payload: Buffer): string {
    return payload.toString('utf8').replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
  }

  /** A HELLO payload; `extra` adds fields (a joiner's ring port, a ring connection's group id). */
  function hello(rank: number, worldSize: number, extra: Record<string, string | number> = {}): Buffer {
    return Buffer.from(JSON.stringify({...extra, v: VERSION, rank, worldSize, nonce: crypto.randomBytes(NONCE).toString('hex')}));
  }

  /** The fields of a HELLO or CHALLENGE payload, or the reason it is malformed. */
  function parse(payload: Buffer, fields: string[]): Record<string, unknown> | string {
    let m: Record<string, unknown>;
    try { m = JSON.parse(payload.toString('utf8')); } catch { return 'malformed handshake message'; }
    if (typeof m !== 'object' || m === null) return 'malformed handshake message';
    for (const f of fields) if (m[f] === undefined) return `handshake message without '${f}'`;
    for (const f of ['nonce', 'proof']) {
      if (fields.includes(f) && !(typeof m[f] === 'string' && /^[0-9a-f]{64}$/.test(m[f] as string))) return `bad ${f}`;
    }
    if (fields.includes('v') && m.v !== VERSION) return `protocol version ${String(m.v)} (this is ${VERSION})`;
    return m;
  }

  /**
   * Scopes: '' for the star (rank 0 and a joiner), 'ring ' for a ring connection (the listener
   * plays the hub). The scope prefixes every MAC label.
   */
  type Scope = '' | 'ring ';

  const hubProof = (key: Buffer, helloPayload: Buffer, nonce: Buffer, scope: Scope = '') =>
    mac(key, `${scope}hub proof`, helloPayload, nonce);
  const rankProof = (key: Buffer, helloPayload: Buffer, nonce: Buffer, scope: Scope = '') =>
    mac(key, `${scope}rank proof`, helloPayload, nonce);

  /** The hub's CHALLENGE for a HELLO: its fresh nonce and its proof. */
  function challenge(key: Buffer, helloPayload: Buffer, scope: Scope = ''): {payload: Buffer; nonce: Buffer} {
    const nonce = crypto.randomBytes(NONCE);
    const proof = hubProof(key, helloPayload, nonce, scope);
    return {payload: Buffer.from(JSON.stringify({nonce: nonce.toString('hex'), proof: proof.toString('hex')})), nonce};
  }

  /**
   * One authenticated connection's sealing: `hub` says which end this is (each direction has
   * its own nonce space and counter).
   */
  function session(key: Buffer, helloPayload: Buffer, nonce: Buffer, hub: boolean, scope: Scope = '') {
    const k = mac(key, `${scope}session key`, helloPayload, nonce);
    let sent = 0;
    let received = 0;
    const iv = (direction: number, counter: number) => {
      const b = Buffer.alloc(12);
      b.writeUInt32BE(direction, 0);
      b.writeUInt32BE(Math.floor(counter / 2 ** 32), 4);
      b.writeUInt32BE(counter >>> 0, 8);
      return b;
    };
    /** The sealed frame of the concatenated `parts`, as buffers to write in order (no joining copy). */
    const sealParts = (type: number, parts: Uint8Array[]): Buffer[] => {
      const length = parts.reduce((a, p) => a + p.byteLength, 0);
      const head = header(type, length + TAG);
      const c = crypto.createCipheriv('aes-256-gcm', k, iv(hub ? 1 : 0, sent++), {authTagLength: TAG});
      c.setAAD(head);
      const out = [head];
      for (const p of parts) out.push(c.update(p));
      out.push(c.final(), c.getAuthTag());
      return out;
    };
    return {
      sealParts,
      /**
       * The frame of the concatenated `parts` in clear with an AES-GMAC tag (authenticated, not
       * encrypted: for bulk data where confidentiality is not asked for; several times faster).
       * Same counters as sealed frames: a forged, tampered, replayed or reordered frame fails.
       */
      signParts(type: number, parts: Uint8Array[]): Buffer[] {
        const length = parts.reduce((a, p) => a + p.byteLength, 0);
        const head = header(type, length + TAG);
        const c = crypto.createCipheriv('aes-256-gcm', k, iv(hub ? 3 : 2, sent++), {authTagLength: TAG});
        c.setAAD(head);
        for (const p of parts) c.setAAD(p);
        c.final();
        return [head, ...parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)), c.getAuthTag()];
      },
      /**
       * Checks a signed frame piece by piece: update() with the payload's bytes (its tag
       * excluded) as they arrive, then check(tag). Frames must be checked in the order they came.
       */
      signedChecker(head: Buffer) {
        const d = crypto.createDecipheriv('aes-256-gcm', k, iv(hub ? 2 : 3, received), {authTagLength: TAG});
        d.setAAD(head);
        return {
          update(bytes: Uint8Array): void { d.setAAD(bytes); },
          /** Whether `tag` is the frame's tag. */
          check(tag: Buffer): boolean {
            try {
              d.setAuthTag(tag);
              d.final();
            } catch {
              return false;
            }
            received++;
            return true;
          },
        };
      },
      seal(type: number, payload: Buffer): Buffer {
        return Buffer.concat(sealParts(type, [payload]));
      },
      /** The payload of a sealed frame, or null if it does not open (forged, tampered, replayed). */
      open(head: Buffer, body: Buffer): Buffer | null {
        if (body.length < TAG) return null;
        try {
          const d = crypto.createDecipheriv('aes-256-gcm', k, iv(hub ? 0 : 1, received), {authTagLength: TAG});
          d.setAAD(head);
          d.setAuthTag(body.subarray(body.length - TAG));
          const out = d.update(body.subarray(0, body.length - TAG));
          d.final(); // throws unless the tag matches; GCM returns no more bytes here
          received++;
          return out;
        } catch {
          return null;
        }
      },
    };
  }

  return {
    MAGIC, HEADER, TAG, T, FIRST_SEALED, HANDSHAKE_LIMIT,
    header, frame, reader, deriveKey, verify, text, hello, parse, challenge, hubProof, rankProof, session,
  };
}
