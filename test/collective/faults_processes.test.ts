/**
 * Faults across processes on the TCP transport: every live rank raises a clear error within
 * the timeout, nothing hangs, and the launcher stops the others and exits non-zero. Every test
 * is bounded in time.
 */
import {sendRaw} from './fake_peer.js';
import {execFile, spawn} from 'node:child_process';
import {join} from 'node:path';
import {launcher, rankLines} from './launcher_helpers.js';
import {testPort} from './tcp_ranks.js';

const root = join(__dirname, '..', '..');
const script = 'test/collective/scripts/fault_rank.cjs';

describe('through the launcher', () => {
  test('a rank that dies mid-step: the others raise at once, the launcher exits non-zero', async () => {
    const run = await launcher(['run', '--nproc', '3', '--timeout-ms', '20000', script, 'die'], {}, 60000);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/\[launcher\] rank 1 exited with code 3/);
    expect(run.stderr).toContain('stopping the other ranks');
    const lines = rankLines(run.stdout);
    for (const r of [0, 2]) {
      const res = lines.get(r)?.[0];
      // Either the rank saw the error itself, or the launcher stopped it first.
      if (res) {
        expect(res.ok).toBe(false);
        expect(res.error).toMatch(/CollectiveError: .*rank 1 at 127\.0\.0\.1:\d+ closed the connection|rank 0 at .* closed the connection/);
        expect(res.ms as number).toBeLessThan(20000);
      }
    }
    expect(run.ms).toBeLessThan(30000);
  }, 70000);

  test('a rank that stalls past the timeout: the others raise a timeout error', async () => {
    const run = await launcher(['run', '--nproc', '2', '--timeout-ms', '1500', script, 'stall'], {}, 60000);
    expect(run.code).not.toBe(0);
    const res = rankLines(run.stdout).get(0)![0];
    expect(res.ok).toBe(false);
    expect(res.error).toMatch(/timed out after \d+ ms \(limit 1500 ms\) in all-reduce #\d+ waiting for rank\(s\) 1/);
    expect(res.ms as number).toBeGreaterThanOrEqual(1400);
    expect(res.ms as number).toBeLessThan(6000);
  }, 70000);

  test('mismatched channel counts: every rank raises a mismatch error', async () => {
    const run = await launcher(['run', '--nproc', '3', '--timeout-ms', '20000', script, 'channels'], {}, 60000);
    expect({code: run.code, stderr: run.stderr}).toMatchObject({code: 2});
    const lines = rankLines(run.stdout);
    const seen = [0, 1, 2].map((r) => lines.get(r)?.[0]).filter((x) => x !== undefined);
    expect(seen.length).toBeGreaterThanOrEqual(1);
    for (const res of seen) {
      expect(res!.ok).toBe(false);
      expect(res!.error).toMatch(/collective mismatch in all-reduce #0: rank \d sent \d+ values, rank \d sent \d+/);
    }
  }, 70000);
});

/** Starts one rank by hand (no launcher) with the given environment. */
function rank(r: number, env: Record<string, string>, args: string[]): Promise<{code: number; out: string}> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, script), ...args], {
      cwd: root, timeout: 30000, env: {...process.env, RANK: String(r), WORLD_SIZE: '2', ...env},
    }, (error, stdout, stderr) => resolve({code: error ? Number(error.code ?? 1) : 0, out: stdout + stderr}));
  });
}

describe('at the rendezvous', () => {
  test('a peer with the wrong token is refused (it refuses rank 0 first), and rank 0 says why when it times out', async () => {
    const port = String(await testPort());
    const common = {MASTER_ADDR: '127.0.0.1', MASTER_PORT: port, TFJS_NORMS_TIMEOUT_MS: '2000'};
    const [r0, r1] = await Promise.all([
      rank(0, {...common, TFJS_NORMS_TOKEN: 'right'}, ['none']),
      rank(1, {...common, TFJS_NORMS_TOKEN: 'wrong'}, ['none']),
    ]);
    expect(r0.code).not.toBe(0);
    expect(r0.out).toMatch(/rendezvous at 127\.0\.0\.1:\d+ did not complete within \d+ ms \(limit 2000 ms\): waiting for rank\(s\) 1; rejected 1 connection\(s\), last: .*wrong token/);
    expect(r1.code).not.toBe(0);
    expect(r1.out).toMatch(/the listener at 127\.0\.0\.1:\d+ failed authentication: it could not prove that it knows TFJS_NORMS_TOKEN/);
  }, 40000);

  test('garbage and oversized frames on the rendezvous port are dropped; the group still forms', async () => {
    const port = await testPort();
    const env = {MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), TFJS_NORMS_TOKEN: 't', TFJS_NORMS_TIMEOUT_MS: '10000'};
    const r0 = spawn(process.execPath, [join(root, script), 'none'], {cwd: root, env: {...process.env, ...env, RANK: '0', WORLD_SIZE: '2'}});
    let out0 = '';
    r0.stdout.on('data', (d) => { out0 += d; });
    const exit0 = new Promise<number>((resolve) => r0.on('exit', (c) => resolve(c ?? 1)));
    const send = (bytes: Buffer) => sendRaw(port, bytes);
    // Not our protocol at all, then a valid header announcing a 1 GB payload.
    expect(await send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toContain('bad magic');
    const huge = Buffer.alloc(12);
    huge.writeUInt32BE(0x54464e4d, 0);
    huge.writeUInt8(1, 4);
    huge.writeUInt32BE(1 << 30, 8);
    expect(await send(huge)).toContain('exceeds the limit');
    const r1 = await rank(1, env, ['none']);
    expect(r1.out).toContain('"ok":true');
    expect(await exit0).toBe(0);
    expect(out0).toContain('"ok":true');
  }, 40000);
});
