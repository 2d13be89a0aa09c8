/**
 * The ring's settings (environment and options), and the overlap of distributedOptimizer's
 * gradient buckets: bucket k+1's gradients are read while bucket k is on the wire.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {collective} from '../../src/index.js';
import {rendezvousFromEnv} from '../../src/collective/env.js';
import {TcpTransport} from '../../src/collective/tcp_transport.js';

const job = {TFJS_NORMS_TOKEN: 'secret', MASTER_PORT: '29500', RANK: '1', WORLD_SIZE: '4'};

describe('environment', () => {
  test('TFJS_NORMS_RING_THRESHOLD_BYTES: bytes or off; unset leaves the default to the transport', () => {
    expect(rendezvousFromEnv(job).ringThresholdBytes).toBeUndefined();
    expect(rendezvousFromEnv({...job, TFJS_NORMS_RING_THRESHOLD_BYTES: '0'}).ringThresholdBytes).toBe(0);
    expect(rendezvousFromEnv({...job, TFJS_NORMS_RING_THRESHOLD_BYTES: '1048576'}).ringThresholdBytes).toBe(1048576);
    expect(rendezvousFromEnv({...job, TFJS_NORMS_RING_THRESHOLD_BYTES: 'off'}).ringThresholdBytes).toBe(-1);
    expect(() => rendezvousFromEnv({...job, TFJS_NORMS_RING_THRESHOLD_BYTES: '-5'}))
      .toThrow(/TFJS_NORMS_RING_THRESHOLD_BYTES must be a decimal integer in \[0, 4294967296\] or 'off', got '-5'/);
  });

  test('TFJS_NORMS_RING_PORT: the base, plus the local rank', () => {
    expect(rendezvousFromEnv({...job, TFJS_NORMS_RING_PORT: '29600'}).ringPort).toBe(29600);
    expect(rendezvousFromEnv({...job, LOCAL_RANK: '3', TFJS_NORMS_RING_PORT: '29600'}).ringPort).toBe(29603);
    expect(() => rendezvousFromEnv({...job, LOCAL_RANK: '3', TFJS_NORMS_RING_PORT: '65534'})).toThrow(/past port 65535/);
    expect(() => rendezvousFromEnv({...job, TFJS_NORMS_RING_PORT: '0'})).toThrow(/TFJS_NORMS_RING_PORT must be a decimal integer in \[1, 65535\]/);
  });

  test('TFJS_NORMS_RING_ENCRYPT: 1 or 0', () => {
    expect(rendezvousFromEnv({...job, TFJS_NORMS_RING_ENCRYPT: '1'}).ringEncrypt).toBe(true);
    expect(rendezvousFromEnv({...job, TFJS_NORMS_RING_ENCRYPT: '0'}).ringEncrypt).toBe(false);
    expect(() => rendezvousFromEnv({...job, TFJS_NORMS_RING_ENCRYPT: 'yes'})).toThrow(/TFJS_NORMS_RING_ENCRYPT must be 1 or 0, got 'yes'/);
  });

  test('bad ring options fail at once, before any connection', () => {
    const base = {rank: 0, worldSize: 2, masterAddr: '127.0.0.1', masterPort: 1, token: 't'};
    expect(() => new TcpTransport({...base, ringThresholdBytes: -2})).toThrow(/ringThresholdBytes must be an integer in \[-1, /);
    expect(() => new TcpTransport({...base, ringPort: 70000})).toThrow(/ringPort must be an integer in \[0, 65535\], got 70000/);
    expect(() => new TcpTransport({...base, ringChunkBytes: 4})).toThrow(/ringChunkBytes must be an integer in \[8, /);
  });

  test('bad rendezvous options fail at once with the field\'s name', () => {
    const base = {rank: 0, worldSize: 2, masterAddr: '127.0.0.1', masterPort: 1, token: 't'};
    expect(() => new TcpTransport({...base, masterPort: 99999})).toThrow(/masterPort must be an integer in \[1, 65535\], got 99999/);
    expect(() => new TcpTransport({...base, masterPort: 0})).toThrow(/masterPort must be an integer in \[1, 65535\], got 0/);
    expect(() => new TcpTransport({...base, rank: 2})).toThrow(/rank must be an integer in \[0, 1\], got 2/);
    expect(() => new TcpTransport({...base, worldSize: 1.5})).toThrow(/worldSize must be an integer/);
    expect(() => new TcpTransport({...base, timeoutMs: 0})).toThrow(/timeoutMs must be an integer in \[1, /);
  });
});

describe('distributedOptimizer: overlapped buckets', () => {
  beforeAll(async () => { await tf.setBackend('cpu'); });

  test('each bucket\'s gradients are read while the previous bucket is on the wire; one all-reduce at a time', () => {
    const events: string[] = [];
    let outstanding = 0;
    const transport: collective.CollectiveTransport = {
      rank: 0, worldSize: 2, close: () => undefined,
      allReduceSum: () => { throw new Error('not used'); },
      startAllReduceSumFloat32: (data) => {
        expect(outstanding).toBe(0);
        outstanding++;
        events.push(`start ${data.length}`);
        const sum = Float32Array.from(data, (v) => 2 * v); // the other rank sent the same gradients
        return {wait: () => { events.push('wait'); outstanding--; data.set(sum); return data; }};
      },
    };
    const group = new collective.CollectiveGroup(transport);
    const vars = ['a', 'b', 'c'].map((name, i) => tf.variable(tf.fill([i + 2], 1), true, name));
    const grads = vars.map((v, i) => {
      const g = tf.fill([i + 2], i + 1);
      const read = g.dataSync.bind(g);
      g.dataSync = (() => { events.push(`read ${v.name}`); return read(); }) as typeof g.dataSync;
      return {name: v.name, tensor: g};
    });
    // 3-value buckets over 2 + 3 + 4 gradient values: [a a b] [b b c] [c c c].
    const opt = collective.distributedOptimizer(tf.train.sgd(1), {group, bucketBytes: 12});
    opt.applyGradients(grads);
    expect(events).toEqual(['read a', 'read b', 'start 3', 'read c', 'wait', 'start 3', 'wait', 'start 3', 'wait']);
    // Averaged over the two ranks: the gradients themselves.
    expect(vars.map((v) => Array.from(v.dataSync()))).toEqual([[0, 0], [-1, -1, -1], [-2, -2, -2, -2]]);
    tf.dispose([...vars, ...grads.map((g) => g.tensor)]);
    opt.dispose();
  });

  test('a transport without the split call sums at once; wait() returns the sum again', () => {
    const group = new collective.CollectiveGroup(new collective.SingleProcessTransport());
    const p = group.startAllReduceSum(Float32Array.of(1, 2));
    expect(Array.from(p.wait())).toEqual([1, 2]);
    expect(Array.from(p.wait())).toEqual([1, 2]);
  });
});
