/**
 * Faults on the ring: a rank killed in the middle of a large ring all-reduce makes every live
 * rank fail with the real cause (the lost rank named) well within the timeout, and hostile
 * connections to a rank's ring port (not our protocol, an oversized frame, frames out of the
 * handshake's order) are refused while the group still forms and reduces; an authenticated
 * peer that breaks the ring's sequence fails the group with an error naming it.
 */
import {connect, createServer, type AddressInfo} from 'node:net';
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

test('an authenticated ring peer that sends a step out of sequence fails the group, naming it', async () => {
  // Rank 1 is played here: it knows the token, joins, runs both ring handshakes, then sends
  // rank 0 a ring frame for step 1 where step 0 is due.
  const token = 'ring-fault-token';
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
  const ringFrames = new Frames(ring);
  const hello = P.hello(1, 2, {group: table.group});
  ring.write(P.frame(T.HELLO, hello));
  const challenge = JSON.parse((await ringFrames.next())!.payload.toString()) as {nonce: string; proof: string};
  const nonce = Buffer.from(challenge.nonce, 'hex');
  expect(P.verify(P.hubProof(key, hello, nonce, 'ring '), Buffer.from(challenge.proof, 'hex'))).toBe(true);
  ring.write(P.frame(T.PROOF, P.rankProof(key, hello, nonce, 'ring ')));
  const session = P.session(key, hello, nonce, false, 'ring ');
  const head = Buffer.alloc(24);
  head.writeUInt32BE(0, 0); // all-reduce #0
  head.writeUInt32BE(1, 4); // step 1: out of sequence
  head.writeUInt32BE(0, 8); // chunk 0
  head.writeUInt32BE(4, 12); // 4 values
  head.writeUInt32BE(1, 16); // float32
  for (const b of session.signParts(T.RING, [head, Buffer.alloc(8)])) ring.write(b);
  const replies = await r0.replies;
  expect(replies[1].ok).toBe(false);
  expect(replies[1].error).toMatch(/rank 0: rank 1 sent ring step 1 of chunk 0 out of sequence in all-reduce #0 \(expected step 0\)/);
  // Rank 0 told its peer why, over the star.
  const error = await me.frames.next();
  expect(error!.type).toBe(T.ERROR);
  expect(me.session.open(error!.head, error!.payload)!.toString()).toMatch(/out of sequence/);
  ring.destroy();
  me.socket.destroy();
  listener.close();
}, 40000);
