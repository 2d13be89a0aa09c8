/**
 * Hand-driven peers of the TCP protocol for the security tests: an impostor (no token) or a
 * rank that knows the token and then misbehaves (forged, tampered, replayed frames).
 */
import * as crypto from 'node:crypto';
import {connect, createServer, type Server, type Socket} from 'node:net';
import {tcpProtocol} from '../../src/collective/tcp_protocol.js';

export const P = tcpProtocol(crypto);
export const {T} = P;

export interface Frame {type: number; head: Buffer; payload: Buffer; raw: Buffer}

/** The frames arriving on a socket, one at a time; null once it has closed. */
export class Frames {
  readonly all: Frame[] = [];
  private queue: Frame[] = [];
  private waiters: Array<(f: Frame | null) => void> = [];
  private closed = false;
  bytes = Buffer.alloc(0);

  constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.bytes = Buffer.concat([this.bytes, d]);
      this.parse();
    });
    socket.on('error', () => { /* seen as close */ });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w(null);
    });
  }

  private offset = 0;
  private parse(): void {
    while (this.bytes.length - this.offset >= P.HEADER) {
      const len = this.bytes.readUInt32BE(this.offset + 8);
      if (this.bytes.length - this.offset < P.HEADER + len) return;
      const raw = this.bytes.subarray(this.offset, this.offset + P.HEADER + len);
      const f = {type: raw.readUInt8(4), head: raw.subarray(0, P.HEADER), payload: raw.subarray(P.HEADER), raw};
      this.offset += raw.length;
      this.all.push(f);
      const w = this.waiters.shift();
      if (w) w(f); else this.queue.push(f);
    }
  }

  next(timeoutMs = 5000): Promise<Frame | null> {
    const f = this.queue.shift();
    if (f) return Promise.resolve(f);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no frame in time')), timeoutMs);
      this.waiters.push((x) => { clearTimeout(timer); resolve(x); });
    });
  }
}

/** Connects to rank 0, retrying while it does not listen yet. */
export async function dial(port: number): Promise<Socket> {
  for (let i = 0; i < 300; i++) {
    const s = await new Promise<Socket | null>((resolve) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => resolve(c));
      c.once('error', () => resolve(null));
    });
    if (s) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

/**
 * Joins a real rank 0 as `rank`, knowing the token: the socket, its frames and its session.
 * `extra` adds HELLO fields (a ring listener's `ringHost` and `ringPort`).
 */
export async function joinAs(port: number, token: string, rank: number, worldSize: number,
                             extra: Record<string, string | number> = {}) {
  const key = await P.deriveKey(token);
  const socket = await dial(port);
  const frames = new Frames(socket);
  const hello = P.hello(rank, worldSize, extra);
  socket.write(P.frame(T.HELLO, hello));
  const c = await frames.next();
  if (c?.type !== T.CHALLENGE) throw new Error(`expected a CHALLENGE, got ${c?.type}`);
  const m = JSON.parse(c.payload.toString()) as {nonce: string};
  const nonce = Buffer.from(m.nonce, 'hex');
  socket.write(P.frame(T.PROOF, P.rankProof(key, hello, nonce)));
  return {socket, frames, session: P.session(key, hello, nonce, false)};
}

/** Plays rank 0 for one real rank, knowing the token: resolves once that rank is welcomed. */
export async function hostFor(token: string): Promise<{server: Server; port: number; peer: Promise<{
    socket: Socket; frames: Frames; session: ReturnType<typeof P.session>}>}> {
  const key = await P.deriveKey(token);
  let accept!: (s: Socket) => void;
  const accepted = new Promise<Socket>((r) => { accept = r; });
  const server = createServer((s) => accept(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as {port: number}).port;
  const peer = (async () => {
    const socket = await accepted;
    const frames = new Frames(socket);
    const h = await frames.next();
    if (h?.type !== T.HELLO) throw new Error('expected a HELLO');
    const hello = Buffer.from(h.payload);
    const c = P.challenge(key, hello);
    socket.write(P.frame(T.CHALLENGE, c.payload));
    const proof = await frames.next();
    if (proof?.type !== T.PROOF || !P.verify(P.rankProof(key, hello, c.nonce), proof.payload)) throw new Error('bad proof');
    const session = P.session(key, hello, c.nonce, true);
    socket.write(session.seal(T.WELCOME, Buffer.alloc(0)));
    return {socket, frames, session};
  })();
  return {server, port, peer};
}

/** A float64 all-reduce payload: sequence number, 0 (not float32), then the values. */
export function arrayPayload(seq: number, values: number[]): Buffer {
  const p = Buffer.alloc(8 + 8 * values.length);
  p.writeUInt32BE(seq, 0);
  values.forEach((v, i) => p.writeDoubleLE(v, 8 + 8 * i));
  return p;
}

/**
 * Connects to `port`, sends `bytes` and resolves with what came back before the other side
 * closed; retries (every 100 ms, up to 10 s) while nothing listens there yet.
 */
export async function sendRaw(port: number, bytes: Buffer): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const reply = await new Promise<string | null>((resolve) => {
      const s: Socket = connect(port, '127.0.0.1');
      let got = '';
      s.on('connect', () => s.write(bytes));
      s.on('data', (d) => { got += d.toString('latin1'); });
      s.on('error', () => resolve(null));
      s.on('close', () => resolve(got));
    });
    if (reply !== null) return reply;
    await new Promise((r) => setTimeout(r, 100)); // not listening yet
  }
  throw new Error(`nothing listens on ${port}`);
}
