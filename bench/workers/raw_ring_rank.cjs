// Plain-socket ring, the ceiling of the ring all-reduce on this machine: the data movement of a
// ring all-reduce and nothing else (no adds, no MAC, no copies to or from the caller). Started
// as RANK of WORLD_SIZE processes (MASTER_PORT set): rank r listens on MASTER_PORT + 1 + r and
// connects to rank r+1. For each size in argv[2] (bytes, comma-separated) it runs argv[3]
// (comma-separated) timed iterations after argv[4] warm-ups (default 1; the first few runs of a
// size are up to twice as slow); rank 0 prints the median ms per size.
// One iteration moves what ring_plan.ts (built, dist/cjs) plans for float32 arrays: the array is cut into W
// segments, each into chunks of at most argv[5] bytes (default 1 MiB, the ring's frames); in
// step t < 2(W−1) a rank sends chunk c of one segment while receiving one from its predecessor,
// and sends chunk c of step t+1 as soon as it has received chunk c of step t (the ring's
// pipelining). Sends come from a preallocated buffer; received bytes are copied into another.
// Each iteration starts after a barrier (a token round the ring, then a release round it).
const net = require('node:net');
const {ringPlan} = require('../../dist/cjs/src/collective/ring_plan.js');

const rank = Number(process.env.RANK);
const W = Number(process.env.WORLD_SIZE);
const basePort = Number(process.env.MASTER_PORT) + 1;
const host = process.env.MASTER_ADDR || '127.0.0.1';
const sizes = process.argv[2].split(',').map(Number);
const iters = process.argv[3].split(',').map(Number);
const warmups = Number(process.argv[4] || 1);
const chunkBytes = Number(process.argv[5] || 1 << 20);
// Every chunk is then at least one byte long (a chunk of none would never complete).
if (!(W >= 2 && rank >= 0 && rank < W && sizes.every((b) => b >= 4 * W && b % 4 === 0) && chunkBytes >= 1024)) {
  throw new Error('raw_ring_rank: needs RANK < WORLD_SIZE (>= 2), MASTER_PORT, sizes in whole float32s (>= 4·W bytes), chunks >= 1 KiB');
}

const ARRIVE = 0xa1, RELEASE = 0xa2;
const mod = (a) => ((a % W) + W) % W;
const steps = 2 * (W - 1);
const fill = (r) => 0x10 + r; // payload byte of rank r: a framing error shows as a wrong byte
const payload = Buffer.alloc(Math.max(...sizes), fill(rank));
const received = Buffer.alloc(payload.length);

/** Byte ranges of the ring's own plan (ring_plan.ts, built) for `bytes` of float32, as the ring cuts them. */
function plan(bytes) {
  const p = ringPlan(bytes / 4, W, Math.max(1, Math.floor(chunkBytes / 4)));
  const at = (k, c) => p.range(k, c).map((i) => 4 * i);
  return {chunks: p.chunks, send: (t, c) => at(p.sendSegment(rank, t), c), recv: (t, c) => at(p.recvSegment(rank, t), c)};
}

// Everything this rank will read from its predecessor, in order: per iteration the two barrier
// tokens, then the chunks step by step (the stream is in order, so the predecessor sends them so).
const runs = [];
const expect = [];
sizes.forEach((bytes, k) => {
  const p = plan(bytes);
  for (let i = 0; i < warmups + iters[k]; i++) {
    runs.push({bytes, plan: p, timed: i >= warmups});
    expect.push({token: ARRIVE}, {token: RELEASE});
    for (let t = 0; t < steps; t++) {
      for (let c = 0; c < p.chunks; c++) {
        const [a, b] = p.recv(t, c);
        expect.push({t, c, a, len: b - a});
      }
    }
  }
});

function die(message) {
  console.error(`raw_ring_rank ${rank}: ${message}`);
  process.exit(1);
}

let out = null; // to rank + 1
let inSock = null; // from rank − 1
let runIndex = 0;
let run = null; // the iteration in flight: {recvLeft, unflushed, t0}
let ready = false; // this rank has finished the previous iteration
let arrived = false; // the ARRIVE token reached this rank (ranks ≠ 0)
const times = new Map(); // bytes → ms of the timed iterations

function send(t, c) {
  const [a, b] = run.plan.send(t, c);
  run.unflushed++;
  out.write(payload.subarray(a, b), () => { run.unflushed--; finishIfDone(); });
}

function startData() {
  run = {...runs[runIndex], recvLeft: steps * runs[runIndex].plan.chunks, unflushed: 0, t0: process.hrtime.bigint()};
  for (let c = 0; c < run.plan.chunks; c++) send(0, c);
}

function finishIfDone() {
  if (run === null || run.recvLeft > 0 || run.unflushed > 0) return;
  const ms = Number(process.hrtime.bigint() - run.t0) / 1e6;
  if (run.timed) {
    if (!times.has(run.bytes)) times.set(run.bytes, []);
    times.get(run.bytes).push(ms);
  }
  run = null;
  runIndex++;
  if (runIndex === runs.length) return finish();
  ready = true;
  barrier();
}

/** Rank 0 starts the ARRIVE token once it is ready; the others pass it on once they are. */
function barrier() {
  if (!ready || (rank !== 0 && !arrived)) return;
  ready = arrived = false;
  out.write(Buffer.from([ARRIVE]));
}

function onItem(item) {
  if (item.token === ARRIVE) {
    if (rank === 0) { // every rank is at the barrier: release them and start
      out.write(Buffer.from([RELEASE]));
      startData();
    } else {
      arrived = true;
      barrier();
    }
  } else if (item.token === RELEASE) {
    if (rank !== 0) {
      out.write(Buffer.from([RELEASE]));
      startData();
    }
  } else {
    const want = fill(mod(rank - 1));
    if (received[item.a] !== want || received[item.a + item.len - 1] !== want) die(`ring stream out of step at step ${item.t}`);
    run.recvLeft--;
    if (item.t + 1 < steps) send(item.t + 1, item.c);
    finishIfDone();
  }
}

let at = 0; // index into expect
let pos = 0; // bytes of expect[at] read so far
function onData(piece) {
  for (let p = 0; p < piece.length;) {
    if (at === expect.length) die('predecessor sent more than the ring moves');
    const item = expect[at];
    if (item.token !== undefined) {
      if (piece[p] !== item.token) die(`expected token ${item.token}, got byte ${piece[p]}`);
      p++;
    } else {
      const k = Math.min(item.len - pos, piece.length - p);
      piece.copy(received, item.a + pos, p, p + k);
      pos += k;
      p += k;
      if (pos < item.len) continue;
      pos = 0;
    }
    at++;
    onItem(item);
  }
}

function finish() {
  if (rank === 0) {
    const result = {};
    for (const [bytes, list] of times) result[bytes] = list.sort((a, b) => a - b)[list.length >> 1];
    console.log(JSON.stringify(result));
  }
  out.end();
}

function linked() {
  if (!out || !inSock) return;
  ready = true;
  barrier();
}

const server = net.createServer((s) => {
  if (inSock) { s.destroy(); return; }
  inSock = s;
  server.close();
  s.on('data', onData);
  s.on('error', (e) => die(`connection from rank ${mod(rank - 1)}: ${e.message}`));
  s.on('close', () => { if (at < expect.length) die(`rank ${mod(rank - 1)} closed the ring connection early`); });
  linked();
});
server.on('error', (e) => die(`listening on ${basePort + rank}: ${e.message}`));
server.listen(basePort + rank, host);

// The successor may not be listening yet: retry refused connections for a while.
const connectBy = Date.now() + 30000;
function connect() {
  const s = net.connect(basePort + mod(rank + 1), host);
  s.once('error', (e) => {
    if (e.code === 'ECONNREFUSED' && Date.now() < connectBy) setTimeout(connect, 20);
    else die(`connecting to rank ${mod(rank + 1)}: ${e.message}`);
  });
  s.once('connect', () => {
    s.removeAllListeners('error');
    s.on('error', (e) => die(`connection to rank ${mod(rank + 1)}: ${e.message}`));
    s.setNoDelay(true);
    out = s;
    linked();
  });
}
connect();
