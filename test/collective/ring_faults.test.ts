/**
 * Faults on the ring: a rank killed in the middle of a large ring all-reduce makes every live
 * rank fail with the real cause (the lost rank named) well within the timeout, and hostile
 * connections to a rank's ring port (not our protocol, an oversized frame, frames out of the
 * handshake's order) are refused while the group still forms and reduces; an authenticated
 * peer that breaks the ring's sequence fails the group with an error naming it. Ring frames
 * are taken piece by piece as they arrive: split anywhere they still sum exactly, and one
 * altered after signing fails the group.
 */
import {connect, createServer, type AddressInfo, type Socket} from 'node:net';
import {Frames, joinAs, P, sendRaw, T} from './fake_peer.js';
import {ringRank} from './ring_processes.js';
import {tcpRank, testPort} from './tcp_ranks.js';

describe.each([3, 4])('%i processes', (world) => {
  test('a rank killed mid-transfer: every live rank fails naming it, within the timeout', async () => {
    const port = await testPort();
    // 16 MB per all-reduce in 64 KiB frames, again and again until rank 1 is killed.
    const ops = [{n: 4_000_000, data: 'probe', repeat: true}];
    const ranks = Array.from({length: world}, (_, r) => ringRank(r, world, port, ops, {ringChunkBytes: 65536}));
    expect(await ranks[1].line((l) => l.started === 2)).not.toBeNull();
    ranks[1].child.kill('SIGKILL');
    const killedAt = Date.now();
    const ends = await Promise.all(ranks.map((r) => r.exited));
    expect(ends[1].signal).toBe('SIGKILL');
    for (const r of ranks.filter((_, i) => i !== 1)) {
      const last = r.lines[r.lines.length - 1];
      expect(last.ok).toBe(false);
      expect(last.error).toMatch(/^CollectiveError: the collective group failed: .*rank 1\b.*(closed the (ring )?connection|process gone)/);
      // The timeout is 20 s: the failure must come from the lost connection, not the clock.
      expect(last.error).not.toMatch(/timed out/);
      expect(last.ms as number).toBeLessThan(10000);
    }
    expect(Date.now() - killedAt).toBeLessThan(15000);
    for (const [i, e] of ends.entries()) if (i !== 1) expect(e.code).toBe(2);
  }, 90000);
});

function header(type: number, length: number): Buffer {
  const h = Buffer.alloc(12);
  h.writeUInt32BE(0x54464e4d, 0);
  h.writeUInt8(type, 4);
  h.writeUInt32BE(length, 8);
  return h;
}

test('hostile connections to a ring port are refused; the group still forms and reduces on the ring', async () => {
  const port = await testPort();
  let ringPort = await testPort();
  while (ringPort === port) ringPort = await testPort();
  const ops = [{n: 100003}, {sleep: 1500}];
  // Rank 2 is started last: until then the group cannot form and rank 1's ring port is open.
  const r0 = ringRank(0, 3, port, ops);
  const r1 = ringRank(1, 3, port, ops, {}, {TFJS_NORMS_RING_PORT: String(ringPort)});
  expect(await sendRaw(ringPort, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toContain('bad magic');
  expect(await sendRaw(ringPort, header(1, 1 << 30))).toContain('exceeds the limit');
  // A sealed data frame (type 10) or a PROOF (type 3) before any HELLO.
  expect(await sendRaw(ringPort, Buffer.concat([header(10, 40), Buffer.alloc(40)]))).toContain('expected a HELLO frame');
  expect(await sendRaw(ringPort, Buffer.concat([header(3, 32), Buffer.alloc(32)]))).toContain('expected a HELLO frame');
  const r2 = ringRank(2, 3, port, ops);
  const results = await Promise.all([r0, r1, r2].map((r) => r.line((l) => l.hash !== undefined || l.ok === false)));
  for (const res of results) expect(res).toMatchObject({n: 100003, hash: results[0]!.hash});
  expect(results[0]!.maxError as number).toBeLessThan(1e-6);
  // Once its predecessor is in, a rank stops listening on its ring port.
  const refused = await new Promise<boolean>((resolve) => {
    const s = connect(ringPort, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(false); });
    s.on('error', () => resolve(true));
  });
  expect(refused).toBe(true);
  const ends = await Promise.all([r0, r1, r2].map((r) => r.exited));
  for (const e of ends) expect(e.code).toBe(0);
}, 60000);

/**
 * Plays rank 1 of 2 by hand: joins with the token, runs both ring handshakes (rank 0 is this
 * rank's successor and predecessor), then `act` sends rank 0 ring frames. Rank 0 all-reduces
 * the float32 values [1, 2, 3, 4] on the ring; resolves with its reply and what it told rank 1.
 */
async function asRingPeer(token: string, act: (sign: (head: Buffer, values: Buffer) => Buffer, ring: Socket) => Promise<void>) {
  const port = await testPort();
  const r0 = tcpRank({rank: 0, worldSize: 2, masterPort: port, token, ringThresholdBytes: 0},
                     [{op: 'allReduce32', data: [1, 2, 3, 4]}]);
  const key = await P.deriveKey(token);
  // Our ring listener, for rank 0 (our successor and predecessor): the listener's half of the handshake.
  const listener = createServer((s) => {
    const frames = new Frames(s);
    void frames.next().then(async (h) => {
      const c = P.challenge(key, Buffer.from(h!.payload), 'ring ');
      s.write(P.frame(T.CHALLENGE, c.payload));
      await frames.next();
    }).catch(() => undefined);
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
  const me = await joinAs(port, token, 1, 2, {ringHost: '127.0.0.1', ringPort: (listener.address() as AddressInfo).port});
  const welcome = await me.frames.next();
  const table = JSON.parse(me.session.open(welcome!.head, welcome!.payload)!.toString()) as {group: string; hosts: Array<[string, number]>};
  const ring = connect(table.hosts[0][1], table.hosts[0][0]);
  ring.setNoDelay(true);
  const ringFrames = new Frames(ring);
  const hello = P.hello(1, 2, {group: table.group});
  ring.write(P.frame(T.HELLO, hello));
  const challenge = JSON.parse((await ringFrames.next())!.payload.toString()) as {nonce: string; proof: string};
  const nonce = Buffer.from(challenge.nonce, 'hex');
  expect(P.verify(P.hubProof(key, hello, nonce, 'ring '), Buffer.from(challenge.proof, 'hex'))).toBe(true);
  ring.write(P.frame(T.PROOF, P.rankProof(key, hello, nonce, 'ring ')));
  const session = P.session(key, hello, nonce, false, 'ring ');
  await act((head, values) => Buffer.concat(session.signParts(T.RING, [head, values])), ring);
  const replies = await r0.replies;
  const told = await me.frames.next();
  ring.destroy();
  me.socket.destroy();
  listener.close();
  return {reply: replies[1], told: told && told.type === T.ERROR ? me.session.open(told.head, told.payload)!.toString() : null};
}

/** The 24-byte ring header of all-reduce #0 of 4 float32 values. */
function ringHeader(step: number, chunk: number): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32BE(0, 0); // all-reduce #0
  head.writeUInt32BE(step, 4);
  head.writeUInt32BE(chunk, 8);
  head.writeUInt32BE(4, 12); // 4 values
  head.writeUInt32BE(1, 16); // float32
  return head;
}

/** Writes `frame` in pieces of `size` bytes, each in its own TCP segment as far as the OS allows. */
async function inPieces(ring: Socket, frame: Buffer, size: number): Promise<void> {
  for (let i = 0; i < frame.length; i += size) {
    ring.write(frame.subarray(i, i + size));
    await new Promise((r) => setTimeout(r, 2));
  }
}

test('an authenticated ring peer that sends a step out of sequence fails the group, naming it', async () => {
  // Rank 1 sends rank 0 a ring frame for step 1 where step 0 is due.
  const {reply, told} = await asRingPeer('ring-fault-token', async (sign, ring) => {
    ring.write(sign(ringHeader(1, 0), Buffer.alloc(8)));
  });
  expect(reply.ok).toBe(false);
  expect(reply.error).toMatch(/rank 0: rank 1 sent ring step 1 of chunk 0 out of sequence in all-reduce #0 \(expected step 0\)/);
  // Rank 0 told its peer why, over the star.
  expect(told).toMatch(/out of sequence/);
}, 40000);

test('ring frames are taken piece by piece as they arrive: split anywhere (even inside a value), the sum is exact', async () => {
  // Segment 0 is [0, 2), segment 1 [2, 4); rank 1 holds [0.1, 0.2, 0.3, 0.4] (float32). Step 0:
  // rank 1 sends segment 1 (rank 0 adds it); step 1: rank 1 sends the sum of segment 0, which it owns.
  const mine = Float32Array.from([0.1, 0.2, 0.3, 0.4]);
  const owned = Float32Array.from([mine[0] + 1, mine[1] + 2]);
  const {reply} = await asRingPeer('ring-stream-token', async (sign, ring) => {
    await inPieces(ring, sign(ringHeader(0, 0), Buffer.from(mine.buffer, 8, 8)), 5);
    await inPieces(ring, sign(ringHeader(1, 0), Buffer.from(owned.buffer)), 3);
  });
  expect(reply.ok).toBe(true);
  // Rank 0's segment 1 is 3 + 0.3 and 4 + 0.4 added in float32, segment 0 rank 1's bits.
  expect(reply.sum).toEqual([owned[0], owned[1], Math.fround(3 + mine[2]), Math.fround(4 + mine[3])]);
}, 40000);

test('a ring frame whose values were changed after signing fails the group (the tag is checked piece by piece)', async () => {
  const {reply, told} = await asRingPeer('ring-tamper-token', async (sign, ring) => {
    const frame = sign(ringHeader(0, 0), Buffer.from(Float32Array.from([3, 4]).buffer));
    frame[12 + 24 + 5] ^= 1; // a bit of the second value
    await inPieces(ring, frame, 7);
  });
  expect(reply.ok).toBe(false);
  expect(reply.error).toMatch(/rank 0: a ring frame from rank 1 at .* failed authentication/);
  expect(told).toMatch(/failed authentication/);
}, 40000);
