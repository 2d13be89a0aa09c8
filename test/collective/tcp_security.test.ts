/**
 * The TCP transport against impostors and floods: the token never travels, an impostor on
 * MASTER_PORT is named and refused, frames after the handshake cannot be forged, tampered with
 * or replayed, and idle or hostile connections cannot stop a group from forming. Ranks run in
 * worker threads (or a process where a file-descriptor limit is needed); every test is bounded.
 */
import {spawn} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {connect, createServer, type Server, type Socket} from 'node:net';
import {join} from 'node:path';
import {arrayPayload, dial, Frames, hostFor, joinAs, P, T} from './fake_peer.js';
import {tcpRank, testPort} from './tcp_ranks.js';

const root = join(__dirname, '..', '..');
const token = `secret-${randomBytes(16).toString('hex')}`;
/** Every form in which the token could leak. */
const leaks = (bytes: Buffer) => [token, Buffer.from(token).toString('hex'), Buffer.from(token).toString('base64')]
  .filter((t) => bytes.toString('latin1').includes(t));

/** An impostor on a port: records everything it receives, answers each connection with `reply`. */
async function impostor(reply: (s: Socket, frames: Frames) => void): Promise<{server: Server; port: number; got: Frames[]}> {
  const got: Frames[] = [];
  const server = createServer((s) => {
    const f = new Frames(s);
    got.push(f);
    reply(s, f);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {server, port: (server.address() as {port: number}).port, got};
}

describe('an impostor listening on MASTER_PORT', () => {
  test('answering with a made-up proof: gets neither the token nor a proof; the rank fails at once naming it', async () => {
    const imp = await impostor((s, f) => void f.next().then(() => s.write(P.frame(T.CHALLENGE,
      JSON.stringify({nonce: randomBytes(32).toString('hex'), proof: randomBytes(32).toString('hex')})))));
    const [init] = await tcpRank({rank: 1, worldSize: 2, masterPort: imp.port, token, timeoutMs: 5000}, []).replies;
    imp.server.close();
    expect(init.ok).toBe(false);
    expect(init.error).toMatch(new RegExp(`rank 1: the listener at 127\\.0\\.0\\.1:${imp.port} failed authentication: ` +
      'it could not prove that it knows TFJS_NORMS_TOKEN'));
    expect(init.ms).toBeLessThan(2000);
    const bytes = Buffer.concat(imp.got.map((f) => f.bytes));
    expect(leaks(bytes)).toEqual([]);
    // What it got: a HELLO (the rank's ring listener, rank, world size, nonce) and the rank's refusal, never a PROOF.
    expect(imp.got.flatMap((f) => f.all.map((x) => x.type))).toEqual([T.HELLO, T.REJECT]);
    expect(Object.keys(JSON.parse(imp.got[0].all[0].payload.toString()))).toEqual(['ringHost', 'ringPort', 'v', 'rank', 'worldSize', 'nonce']);
  }, 40000);

  test('staying silent: the rank fails at the rendezvous deadline, naming the address and why', async () => {
    const imp = await impostor(() => { /* never answers */ });
    const [init] = await tcpRank({rank: 1, worldSize: 2, masterPort: imp.port, token, timeoutMs: 1500}, []).replies;
    imp.server.close();
    for (const f of imp.got) f.socket.destroy();
    expect(init.error).toMatch(new RegExp(`rendezvous at 127\\.0\\.0\\.1:${imp.port} did not complete within \\d+ ms ` +
      `\\(limit 1500 ms\\); last attempt: the listener at 127\\.0\\.0\\.1:${imp.port} .*did not complete the handshake`));
    expect(init.ms).toBeLessThan(4000);
    expect(leaks(Buffer.concat(imp.got.map((f) => f.bytes)))).toEqual([]);
  }, 40000);

  test('speaking another protocol: the rank fails at once', async () => {
    const imp = await impostor((s) => s.write('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const [init] = await tcpRank({rank: 1, worldSize: 2, masterPort: imp.port, token, timeoutMs: 5000}, []).replies;
    imp.server.close();
    expect(init.error).toMatch(/the listener at 127\.0\.0\.1:\d+ is not a tfjs-norms rank 0 \(bad magic/);
    expect(init.ms).toBeLessThan(2000);
  }, 40000);
});

describe('an impostor rank (no token) at a real rank 0', () => {
  test('is refused after its proof fails, learns nothing, and the real rank still joins', async () => {
    const port = await testPort();
    const rank0 = tcpRank({rank: 0, worldSize: 2, masterPort: port, token}, [{op: 'allReduce', data: [1]}]);
    const s = await dial(port);
    const frames = new Frames(s);
    s.write(P.frame(T.HELLO, P.hello(1, 2)));
    const challenge = await frames.next();
    expect(challenge!.type).toBe(T.CHALLENGE);
    s.write(P.frame(T.PROOF, randomBytes(32)));
    const reject = await frames.next();
    expect(reject!.type).toBe(T.REJECT);
    expect(reject!.payload.toString()).toContain('wrong token');
    expect(await frames.next()).toBeNull();
    expect(leaks(frames.bytes)).toEqual([]);
    const r1 = await tcpRank({rank: 1, worldSize: 2, masterPort: port, token}, [{op: 'allReduce', data: [2]}]).replies;
    const r0 = await rank0.replies;
    expect(r0[1]).toMatchObject({ok: true, sum: [3]});
    expect(r1[1]).toMatchObject({ok: true, sum: [3]});
  }, 40000);
});

describe('after the handshake, frames are bound to the session', () => {
  /** Rank 0 in a thread and rank 1 played here (it knows the token); `misbehave` sends frames. */
  async function withRank0(steps: Array<{op: 'allReduce'; data: number[]}>,
                           misbehave: (p: Awaited<ReturnType<typeof joinAs>>) => Promise<void> | void) {
    const port = await testPort();
    const rank0 = tcpRank({rank: 0, worldSize: 2, masterPort: port, token}, steps);
    const peer = await joinAs(port, token, 1, 2);
    expect((await peer.frames.next())!.type).toBe(T.WELCOME);
    expect(await rank0.joined).toMatchObject({op: 'init', ok: true});
    await misbehave(peer);
    const replies = await rank0.replies;
    peer.socket.destroy();
    return replies;
  }
  const contrib = (p: Awaited<ReturnType<typeof joinAs>>, seq: number, v: number[]) => p.session.seal(T.CONTRIB, arrayPayload(seq, v));
  const rejected = /the collective group failed: a frame from rank 1 at 127\.0\.0\.1:\d+ failed authentication \(forged, tampered or replayed\)/;

  test('a tampered frame is rejected', async () => {
    const [, r] = await withRank0([{op: 'allReduce', data: [1, 2]}], (p) => {
      const f = contrib(p, 0, [10, 20]);
      f[P.HEADER + 5] ^= 1;
      p.socket.write(f);
    });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(rejected);
  }, 40000);

  test('a replayed frame is rejected (the first copy counts once)', async () => {
    const [, first, second] = await withRank0([{op: 'allReduce', data: [1]}, {op: 'allReduce', data: [1]}], (p) => {
      const f = contrib(p, 0, [10]);
      p.socket.write(f);
      p.socket.write(f);
    });
    expect(first).toMatchObject({ok: true, sum: [11]});
    expect(second.error).toMatch(rejected);
  }, 40000);

  test('a frame forged under another session, or sent in clear, is rejected', async () => {
    const [, r] = await withRank0([{op: 'allReduce', data: [1]}], (p) => {
      const other = P.session(randomBytes(32), P.hello(1, 2), randomBytes(32), false);
      p.socket.write(other.seal(T.CONTRIB, arrayPayload(0, [10])));
    });
    expect(r.error).toMatch(rejected);
    const [, clear] = await withRank0([{op: 'allReduce', data: [1]}], (p) => { p.socket.write(P.frame(T.CONTRIB, arrayPayload(0, [10]))); });
    expect(clear.error).toMatch(rejected);
  }, 40000);

  test('rank 0 to a rank: a tampered or reflected result is rejected', async () => {
    for (const attack of ['tamper', 'reflect'] as const) {
      const host = await hostFor(token);
      void host.peer.then(async ({socket, frames, session}) => {
        const f = (await frames.next())!;
        if (attack === 'reflect') return void socket.write(f.raw);
        const r = session.seal(T.RESULT, arrayPayload(0, [7]));
        r[r.length - 1] ^= 0x80;
        socket.write(r);
      });
      const [, res] = await tcpRank({rank: 1, worldSize: 2, masterPort: host.port, token, timeoutMs: 5000},
        [{op: 'allReduce', data: [1]}]).replies;
      host.server.close();
      expect(res.ok).toBe(false);
      expect(res.error).toMatch(/rank 1: a frame from rank 0 at 127\.0\.0\.1:\d+ failed authentication/);
    }
  }, 40000);
});

describe('floods and idle connections', () => {
  test('300 idle connections against a rank 0 limited to 128 file descriptors: the group still forms', async () => {
    const port = await testPort();
    const env = {...process.env, MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), WORLD_SIZE: '2',
                 TFJS_NORMS_TOKEN: token, TFJS_NORMS_TIMEOUT_MS: '15000', RANK: '0'};
    const r0 = spawn('bash', ['-c', 'ulimit -n 128 && exec "$0" "$1"', process.execPath, 'test/collective/scripts/tcp_rank.cjs'],
                     {cwd: root, env});
    let out = '';
    r0.stdout.on('data', (d) => { out += d; });
    r0.stderr.on('data', (d) => { out += d; });
    const exited = new Promise<number>((resolve) => r0.on('exit', (c) => resolve(c ?? 1)));
    const idle: Socket[] = [(await dial(port))];
    for (let i = 1; i < 300; i++) {
      idle.push(await new Promise<Socket>((resolve) => {
        const s = connect(port, '127.0.0.1');
        s.on('error', () => { /* dropped by rank 0 */ });
        s.once('connect', () => resolve(s));
        s.once('close', () => resolve(s));
      }));
    }
    const [joined] = await tcpRank({rank: 1, worldSize: 2, masterPort: port, token, timeoutMs: 15000},
      [{op: 'allReduce', data: [5]}]).replies.then((r) => [r[1]]);
    const code = await exited;
    for (const s of idle) s.destroy();
    expect(out).toContain('"ok":true');
    expect(code).toBe(0);
    expect(joined).toMatchObject({ok: true, sum: [6]});
  }, 40000);

  test('idle connections are dropped after the handshake deadline, at most maxPendingConnections are kept, and rank 0 stops listening once all joined', async () => {
    const port = await testPort();
    const rank0 = tcpRank({rank: 0, worldSize: 2, masterPort: port, token, timeoutMs: 10000,
      handshakeTimeoutMs: 700, maxPendingConnections: 4}, [{op: 'allReduce', data: [1]}]);
    const idle = [await dial(port)];
    const t0 = Date.now();
    const closedAt: number[] = [];
    for (let i = 1; i < 10; i++) idle.push(connect(port, '127.0.0.1'));
    for (const s of idle) {
      s.on('error', () => { /* dropped */ });
      s.on('close', () => closedAt.push(Date.now() - t0));
    }
    const until = async (n: number) => {
      for (let i = 0; i < 100 && closedAt.length < n; i++) await new Promise((r) => setTimeout(r, 50));
    };
    // Over the cap: the oldest six went at once, long before the deadline ...
    await until(6);
    expect(closedAt.length).toBe(6);
    expect(Math.max(...closedAt)).toBeLessThan(650);
    // ... and the rest at the deadline.
    await until(10);
    expect(closedAt.length).toBe(10);
    expect(Math.max(...closedAt)).toBeGreaterThanOrEqual(650);
    const rank1 = tcpRank({rank: 1, worldSize: 2, masterPort: port, token, timeoutMs: 10000}, [{op: 'sleep', ms: 500}, {op: 'allReduce', data: [1]}]);
    // Once the group has formed, nothing listens on the port any more.
    await rank1.joined;
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => resolve(true));
      s.on('connect', () => { s.destroy(); resolve(false); });
    });
    expect(refused).toBe(true);
    expect((await rank0.replies)[1]).toMatchObject({ok: true, sum: [2]});
    expect((await rank1.replies)[2]).toMatchObject({ok: true, sum: [2]});
  }, 40000);
});
