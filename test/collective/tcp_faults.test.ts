/**
 * Faults on the TCP transport with ranks in worker threads (cheap enough to repeat): every
 * failure reaches every live rank as its real cause, fast, never as a timeout.
 */
import {arrayPayload, hostFor, T} from './fake_peer.js';
import {tcpGroup, tcpRank, testPort} from './tcp_ranks.js';

const token = 'fault-token';

test('rank 0 dying while a result is pending: the rank says rank 0 closed the connection (50 runs)', async () => {
  // Rank 0 (played here) sends the result and closes at once, so the result and the end of the
  // connection reach the rank together; ten runs at a time keep the machine busy, which is
  // when the network thread used to end before the compute thread saw the failure.
  const one = async () => {
    const host = await hostFor(token);
    void host.peer.then(({socket, frames, session}) => frames.next(20000).then((f) => {
      if (f?.type !== T.CONTRIB) return void socket.destroy();
      socket.end(session.seal(T.RESULT, arrayPayload(session.open(f.head, f.payload)!.readUInt32BE(0), [5])));
    })).catch(() => undefined); // a rank that failed to join is seen below
    const replies = await tcpRank({rank: 1, worldSize: 2, masterPort: host.port, token, timeoutMs: 10000},
      [{op: 'allReduce', data: [1]}, {op: 'allReduce', data: [2]}]).replies;
    host.server.close();
    return replies;
  };
  const runs = [];
  for (let batch = 0; batch < 5; batch++) runs.push(...await Promise.all(Array.from({length: 10}, one)));
  expect(runs).toHaveLength(50);
  for (const [, first, second] of runs) {
    expect(first).toMatchObject({ok: true, sum: [5]});
    expect(second.ok).toBe(false);
    expect(second.error).toMatch(/the collective group failed: rank 1: rank 0 at 127\.0\.0\.1:\d+ closed the connection/);
    expect(second.ms).toBeLessThan(1000);
  }
}, 120000);

test('rank 0 exiting right after a collective: every other rank sees the closed connection', async () => {
  const port = await testPort();
  const [r0, r1, r2] = await tcpGroup(port, token, [
    [{op: 'allReduce', data: [1]}, {op: 'exit'}],
    [{op: 'allReduce', data: [2]}, {op: 'allReduce', data: [1]}],
    [{op: 'allReduce', data: [3]}, {op: 'allReduce', data: [1]}],
  ], {timeoutMs: 5000});
  expect(r0[1]).toMatchObject({ok: true, sum: [6]});
  for (const r of [r1, r2]) {
    expect(r[1]).toMatchObject({ok: true, sum: [6]});
    expect(r[2].error).toMatch(/rank 0 at 127\.0\.0\.1:\d+ closed the connection/);
    expect(r[2].ms).toBeLessThan(1000);
  }
}, 40000);

test('destroy() on one rank: the others fail at once, naming it', async () => {
  const port = await testPort();
  const [r0, r1, r2] = await tcpGroup(port, token, [
    [{op: 'allReduce', data: [1]}, {op: 'sleep', ms: 300}, {op: 'allReduce', data: [1]}],
    [{op: 'allReduce', data: [1]}, {op: 'destroy'}, {op: 'allReduce', data: [1]}],
    [{op: 'allReduce', data: [1]}, {op: 'allReduce', data: [1]}],
  ], {timeoutMs: 10000});
  expect(r1[2].ok).toBe(true);
  expect(r1[3].error).toMatch(/closed transport|rank 1 left the group/);
  for (const res of [r0[3], r2[2]]) {
    expect(res.ok).toBe(false);
    expect(res.error).toMatch(/the collective group failed: rank 1 left the group \(destroy\(\)\)/);
    expect(res.ms).toBeLessThan(1000);
  }
}, 40000);

test('destroy() on rank 0: the others fail at once', async () => {
  const port = await testPort();
  const [, r1] = await tcpGroup(port, token, [
    [{op: 'allReduce', data: [1]}, {op: 'destroy'}],
    [{op: 'allReduce', data: [1]}, {op: 'sleep', ms: 200}, {op: 'allReduce', data: [1]}],
  ], {timeoutMs: 10000});
  expect(r1[3].error).toMatch(/rank 0 closed the group \(destroy\(\)\)/);
  expect(r1[3].ms).toBeLessThan(1000);
}, 40000);

test('an array over the size limit fails at once on every rank, naming the variable', async () => {
  const port = await testPort();
  const [r0, r1] = await tcpGroup(port, token, [
    [{op: 'allReduce', n: 10}],
    [{op: 'allReduce', n: 200}],
  ], {timeoutMs: 10000, maxMessageBytes: 1024});
  const why = /rank 1: all-reduce #0 of 200 values \(1600 bytes\) exceeds the message limit of 1024 bytes: set TFJS_NORMS_MAX_MESSAGE_BYTES \(or maxMessageBytes\) to at least 1600 on every rank/;
  // Rank 0 may learn of it while it is still joining: then joining throws it.
  for (const r of [r0, r1]) {
    const last = r[r.length - 1];
    expect(last.ok).toBe(false);
    expect(last.error).toMatch(why);
    if (last.op === 'allReduce') expect(last.ms).toBeLessThan(1000);
  }
}, 40000);

test('timeout messages state the real elapsed time and the limit', async () => {
  const port = await testPort();
  const [r0, r1] = await tcpGroup(port, token, [
    [{op: 'allReduce', data: [1]}],
    [{op: 'sleep', ms: 1500}, {op: 'allReduce', data: [1]}],
  ], {timeoutMs: 600});
  const m = /timed out after (\d+) ms \(limit 600 ms\) in all-reduce #0 waiting for rank\(s\) 1/.exec(r0[1].error ?? '');
  expect(m).not.toBeNull();
  const said = Number(m![1]);
  expect(said).toBeGreaterThanOrEqual(600);
  expect(Math.abs(said - r0[1].ms)).toBeLessThan(500);
  expect(r1[2].error).toMatch(/the collective group failed: timed out after \d+ ms \(limit 600 ms\)/);
}, 40000);
