/**
 * Rendezvous from the launcher's environment: every engine's variables, their precedence,
 * disagreements, Slurm host lists and bad values (each must fail at once, naming the variable
 * and its allowed range).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import {collective, inplaceABN, syncBatchNorm} from '../../src/index.js';
import {expandHostlist, rendezvousFromEnv, type Env} from '../../src/collective/env.js';

const T = {TFJS_NORMS_TOKEN: 'secret', MASTER_PORT: '29500'};
const slurmTask = (procid: number, ntasks: number, extra: Env = {}): Env => ({
  SLURM_JOB_ID: '42', SLURM_STEP_ID: '0', SLURM_PROCID: String(procid), SLURM_NTASKS: String(ntasks),
  SLURM_LOCALID: String(procid % 2), SLURM_JOB_NODELIST: 'node[07-08]', SLURM_STEP_NODELIST: 'node[07-08]', ...extra,
});

describe('rendezvousFromEnv: sources', () => {
  test('no engine: a world of one, nothing else required', () => {
    expect(rendezvousFromEnv({})).toEqual({rank: 0, worldSize: 1, source: 'none', masterAddr: '127.0.0.1',
      masterPort: 0, token: '', timeoutMs: 60000, maxMessageBytes: 64 * 1024 * 1024});
  });

  test('torchrun / Kubeflow / tfjs-norms run', () => {
    const r = rendezvousFromEnv({...T, RANK: '2', WORLD_SIZE: '4', LOCAL_RANK: '0', MASTER_ADDR: 'trainer-0.svc'});
    expect(r).toMatchObject({rank: 2, worldSize: 4, localRank: 0, source: 'torchrun', masterAddr: 'trainer-0.svc',
      masterPort: 29500, token: 'secret'});
    // torch.distributed's default address
    expect(rendezvousFromEnv({...T, RANK: '1', WORLD_SIZE: '2'}).masterAddr).toBe('127.0.0.1');
  });

  test('OpenMPI: every rank on this host → 127.0.0.1; several hosts need MASTER_ADDR', () => {
    const ompi = {OMPI_COMM_WORLD_RANK: '1', OMPI_COMM_WORLD_SIZE: '3', OMPI_COMM_WORLD_LOCAL_RANK: '1'};
    expect(rendezvousFromEnv({...T, ...ompi, OMPI_COMM_WORLD_LOCAL_SIZE: '3'}))
      .toMatchObject({rank: 1, worldSize: 3, localRank: 1, source: 'openmpi', masterAddr: '127.0.0.1'});
    expect(() => rendezvousFromEnv({...T, ...ompi, OMPI_COMM_WORLD_LOCAL_SIZE: '2'}))
      .toThrow(/MASTER_ADDR is not set and the OpenMPI ranks may span several hosts.*-x MASTER_ADDR/);
    expect(rendezvousFromEnv({...T, ...ompi, OMPI_COMM_WORLD_LOCAL_SIZE: '2', MASTER_ADDR: '10.0.0.1'}).masterAddr)
      .toBe('10.0.0.1');
  });

  test('MPICH / Intel MPI (PMI)', () => {
    expect(rendezvousFromEnv({...T, PMI_RANK: '3', PMI_SIZE: '4', MPI_LOCALRANKID: '1', MASTER_ADDR: 'h0'}))
      .toMatchObject({rank: 3, worldSize: 4, localRank: 1, source: 'pmi', masterAddr: 'h0'});
    expect(rendezvousFromEnv({...T, PMI_RANK: '0', PMI_SIZE: '2', MPI_LOCALNRANKS: '2'}).masterAddr).toBe('127.0.0.1');
    expect(() => rendezvousFromEnv({...T, PMI_RANK: '0', PMI_SIZE: '2'})).toThrow(/MASTER_ADDR is not set.*MPICH/);
  });

  test('Slurm srun task: master is the first host of the step, else of the job', () => {
    expect(rendezvousFromEnv({...T, ...slurmTask(3, 4)}))
      .toMatchObject({rank: 3, worldSize: 4, localRank: 1, source: 'slurm', masterAddr: 'node07'});
    const noStepList = slurmTask(1, 2, {SLURM_STEP_NODELIST: undefined, SLURM_JOB_NODELIST: 'gpu[3-4,9],cpu1'});
    expect(rendezvousFromEnv({...T, ...noStepList}).masterAddr).toBe('gpu3');
    const oldSlurm = slurmTask(1, 2, {SLURM_STEP_NODELIST: undefined, SLURM_JOB_NODELIST: undefined,
                                      SLURM_NODELIST: 'a01,b02', SLURM_STEP_ID: undefined, SLURM_STEPID: '3'});
    expect(rendezvousFromEnv({...T, ...oldSlurm}).masterAddr).toBe('a01');
    expect(rendezvousFromEnv({...T, ...slurmTask(1, 2), MASTER_ADDR: '192.168.1.5'}).masterAddr).toBe('192.168.1.5');
  });

  test("Slurm's batch script (no step) is not a launch: a world of one", () => {
    const batch = slurmTask(0, 8, {SLURM_STEP_ID: undefined});
    expect(rendezvousFromEnv(batch)).toMatchObject({rank: 0, worldSize: 1, source: 'none'});
  });
});

describe('rendezvousFromEnv: precedence and disagreement', () => {
  test('torchrun first: the launcher inside srun or mpirun has more ranks than the outer launch', () => {
    const underSrun = {...T, ...slurmTask(1, 2), RANK: '5', WORLD_SIZE: '8', LOCAL_RANK: '1', MASTER_ADDR: 'node07'};
    expect(rendezvousFromEnv(underSrun)).toMatchObject({rank: 5, worldSize: 8, source: 'torchrun'});
    const underMpirun = {...T, OMPI_COMM_WORLD_RANK: '1', OMPI_COMM_WORLD_SIZE: '2', RANK: '3', WORLD_SIZE: '4'};
    expect(rendezvousFromEnv(underMpirun)).toMatchObject({rank: 3, worldSize: 4, source: 'torchrun'});
    // the same launch seen twice (srun with PMI) agrees
    expect(rendezvousFromEnv({...T, ...slurmTask(1, 2), PMI_RANK: '1', PMI_SIZE: '2'}))
      .toMatchObject({rank: 1, worldSize: 2, source: 'pmi'});
  });

  test('OpenMPI before MPICH before Slurm', () => {
    const all = {...T, MASTER_ADDR: 'h', OMPI_COMM_WORLD_RANK: '2', OMPI_COMM_WORLD_SIZE: '4', PMI_RANK: '2', PMI_SIZE: '4',
                 ...slurmTask(2, 4)};
    expect(rendezvousFromEnv(all).source).toBe('openmpi');
  });

  test('mpirun inside an sbatch allocation: the daemons\' Slurm ids are not ranks', () => {
    const env = {...T, OMPI_COMM_WORLD_RANK: '2', OMPI_COMM_WORLD_SIZE: '4', ...slurmTask(0, 4)};
    expect(rendezvousFromEnv(env)).toMatchObject({rank: 2, worldSize: 4, source: 'openmpi', masterAddr: 'node07'});
  });

  test('a stale RANK copied to every MPI rank is refused, naming both sources', () => {
    const env = {...T, RANK: '0', WORLD_SIZE: '3', OMPI_COMM_WORLD_RANK: '1', OMPI_COMM_WORLD_SIZE: '3'};
    expect(() => rendezvousFromEnv(env)).toThrow(
      'rendezvousFromEnv: the environment describes two different launches: RANK=0, WORLD_SIZE=3 (torchrun) but ' +
      'OMPI_COMM_WORLD_RANK=1, OMPI_COMM_WORLD_SIZE=3 (OpenMPI). Remove the stale variables (e.g. `unset RANK WORLD_SIZE`)');
  });

  test('an inner launch smaller than the outer one is refused', () => {
    expect(() => rendezvousFromEnv({...T, RANK: '0', WORLD_SIZE: '1', PMI_RANK: '0', PMI_SIZE: '2'}))
      .toThrow(/RANK=0, WORLD_SIZE=1 \(torchrun\) but PMI_RANK=0, PMI_SIZE=2 \(MPICH\/Intel MPI\)/);
    expect(() => rendezvousFromEnv({...T, ...slurmTask(1, 2), RANK: '0', WORLD_SIZE: '2'}))
      .toThrow(/RANK=0, WORLD_SIZE=2 \(torchrun\) but SLURM_PROCID=1, SLURM_NTASKS=2 \(Slurm\)/);
  });

  test('half a source is an error', () => {
    expect(() => rendezvousFromEnv({RANK: '1'})).toThrow('RANK is set but WORLD_SIZE is not');
    expect(() => rendezvousFromEnv({OMPI_COMM_WORLD_SIZE: '2'}))
      .toThrow('OMPI_COMM_WORLD_SIZE is set but OMPI_COMM_WORLD_RANK is not');
  });
});

describe('rendezvousFromEnv: bad values fail at once, naming the variable and the range', () => {
  const base = {...T, RANK: '0', WORLD_SIZE: '2'};
  test.each([
    [{RANK: '0x1'}, "RANK must be a decimal integer in [0, WORLD_SIZE - 1] = [0, 1], got '0x1'"],
    [{RANK: '2'}, "RANK must be a decimal integer in [0, WORLD_SIZE - 1] = [0, 1], got '2'"],
    [{RANK: '1.0'}, "RANK must be a decimal integer in [0, WORLD_SIZE - 1] = [0, 1], got '1.0'"],
    [{RANK: ' 1'}, "RANK must be a decimal integer in [0, WORLD_SIZE - 1] = [0, 1], got ' 1'"],
    [{WORLD_SIZE: '-2'}, "WORLD_SIZE must be a decimal integer in [1, 2147483647], got '-2'"],
    [{WORLD_SIZE: '2.5'}, "WORLD_SIZE must be a decimal integer in [1, 2147483647], got '2.5'"],
    [{WORLD_SIZE: '0'}, "WORLD_SIZE must be a decimal integer in [1, 2147483647], got '0'"],
    [{WORLD_SIZE: '1e1'}, "WORLD_SIZE must be a decimal integer in [1, 2147483647], got '1e1'"],
    [{WORLD_SIZE: '99999999999999999999'}, 'WORLD_SIZE must be a decimal integer in [1, 2147483647]'],
    [{LOCAL_RANK: 'x'}, "LOCAL_RANK must be a decimal integer in [0, 1], got 'x'"],
    [{MASTER_PORT: '99999'}, "MASTER_PORT must be a decimal integer in [1, 65535], got '99999'"],
    [{MASTER_PORT: '0'}, "MASTER_PORT must be a decimal integer in [1, 65535], got '0'"],
    [{MASTER_PORT: '0x50'}, "MASTER_PORT must be a decimal integer in [1, 65535], got '0x50'"],
    [{MASTER_PORT: undefined}, 'MASTER_PORT is not set (WORLD_SIZE=2): export the same free TCP port in [1, 65535]'],
    [{MASTER_ADDR: '10.0.0.1:29500'}, "MASTER_ADDR must be a host name or an IP address (no port, no scheme), got '10.0.0.1:29500'"],
    [{MASTER_ADDR: 'tcp://h'}, 'MASTER_ADDR must be a host name or an IP address'],
    [{TFJS_NORMS_TIMEOUT_MS: '0'}, "TFJS_NORMS_TIMEOUT_MS must be a decimal integer in [1, 2147483647], got '0'"],
    [{TFJS_NORMS_TIMEOUT_MS: '5s'}, "TFJS_NORMS_TIMEOUT_MS must be a decimal integer in [1, 2147483647], got '5s'"],
    [{TFJS_NORMS_MAX_MESSAGE_BYTES: '13'}, 'TFJS_NORMS_MAX_MESSAGE_BYTES must be a multiple of 8'],
    [{TFJS_NORMS_TOKEN: undefined}, 'TFJS_NORMS_TOKEN is not set'],
    [{SLURM_STEP_ID: '0', SLURM_PROCID: '0', SLURM_NTASKS: '2', SLURM_STEP_NODELIST: 'n[1-2'}, "malformed host list 'n[1-2'"],
  ])('%j', (patch, message) => {
    expect(() => rendezvousFromEnv({...base, ...patch} as Env)).toThrow(`rendezvousFromEnv: ${message}`);
  });

  test('timeoutMs option beats TFJS_NORMS_TIMEOUT_MS and is checked too', () => {
    expect(rendezvousFromEnv({...base, TFJS_NORMS_TIMEOUT_MS: '5000'}, {timeoutMs: 1234}).timeoutMs).toBe(1234);
    expect(rendezvousFromEnv({...base, TFJS_NORMS_TIMEOUT_MS: '5000'}).timeoutMs).toBe(5000);
    expect(() => rendezvousFromEnv(base, {timeoutMs: -5})).toThrow('timeoutMs must be an integer in [1, 2147483647] (ms), got -5');
    expect(() => rendezvousFromEnv(base, {timeoutMs: NaN})).toThrow('timeoutMs must be an integer');
  });

  test('leading zeros are still decimal; IPv6 and host names pass', () => {
    expect(rendezvousFromEnv({...base, RANK: '01', MASTER_PORT: '08080'})).toMatchObject({rank: 1, masterPort: 8080});
    expect(rendezvousFromEnv({...base, MASTER_ADDR: 'fe80::1'}).masterAddr).toBe('fe80::1');
    expect(rendezvousFromEnv({...base, MASTER_ADDR: 'job-0.train.default.svc.cluster.local'}).masterAddr)
      .toBe('job-0.train.default.svc.cluster.local');
  });
});

describe('initFromEnv: bad configuration fails at once, before any socket', () => {
  // Today MASTER_PORT=99999 and 0 wait for the whole timeout (here 20 s) before failing.
  const base = {TFJS_NORMS_TOKEN: 't', TFJS_NORMS_TIMEOUT_MS: '20000', MASTER_ADDR: '127.0.0.1', MASTER_PORT: '29400'};
  test.each([
    [{RANK: '1', WORLD_SIZE: '2', MASTER_PORT: '99999'}, "MASTER_PORT must be a decimal integer in [1, 65535], got '99999'"],
    [{RANK: '0', WORLD_SIZE: '2', MASTER_PORT: '0'}, "MASTER_PORT must be a decimal integer in [1, 65535], got '0'"],
    [{RANK: '0x1', WORLD_SIZE: '2'}, "RANK must be a decimal integer in [0, WORLD_SIZE - 1] = [0, 1], got '0x1'"],
    [{RANK: '0', WORLD_SIZE: '-2'}, "WORLD_SIZE must be a decimal integer in [1, 2147483647], got '-2'"],
    [{RANK: '0', WORLD_SIZE: '1.5'}, "WORLD_SIZE must be a decimal integer in [1, 2147483647], got '1.5'"],
    [{RANK: '2', WORLD_SIZE: '2'}, "RANK must be a decimal integer in [0, WORLD_SIZE - 1] = [0, 1], got '2'"],
  ])('%j', (patch, message) => {
    const t0 = Date.now();
    let err: unknown;
    try {
      collective.initFromEnv({env: {...base, ...patch}});
    } catch (e) {
      err = e;
    }
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(err).toBeInstanceOf(collective.CollectiveError);
    expect((err as Error).message).toBe(`initFromEnv: ${message}`);
    expect(collective.getDefaultGroup()).toBeNull();
  });

  test('a world of one from the environment needs no port or token', () => {
    const g = collective.initFromEnv({env: {RANK: '0', WORLD_SIZE: '1'}});
    expect([g.rank, g.worldSize]).toEqual([0, 1]);
    collective.destroy();
  });
});

describe('expandHostlist', () => {
  test.each([
    ['node[01-03,07],gpu5', ['node01', 'node02', 'node03', 'node07', 'gpu5']],
    ['a,b', ['a', 'b']],
    ['n[8-10]', ['n8', 'n9', 'n10']],
    ['n[08-10]', ['n08', 'n09', 'n10']],
    ['rack[1-2]-n[1-2]', ['rack1-n1', 'rack1-n2', 'rack2-n1', 'rack2-n2']],
    ['gpu[3]x', ['gpu3x']],
    ['node-1.cluster', ['node-1.cluster']],
  ])('%s', (list, hosts) => {
    expect(expandHostlist(list)).toEqual(hosts);
  });

  test('stops at the limit without materializing huge ranges', () => {
    expect(expandHostlist('n[0-999999999999]', 2)).toEqual(['n0', 'n1']);
  });

  test.each(['n[1-2', 'n]1[', 'n[a-b]', 'n[3-1]', 'n[[1]]'])('malformed %s', (list) => {
    expect(() => expandHostlist(list)).toThrow(`malformed host list '${list}'`);
  });
});

describe('the group option', () => {
  test.each([
    [{}, 'got Object {}'],
    [{rank: 0, worldSize: 2, allReduceSum: (d: Float64Array) => d, close: () => undefined},
     'got a transport: wrap it with collective.init(transport) or new CollectiveGroup(transport)'],
    ['default', 'got string default'],
  ])('%j is refused with a clear message, before any work', (group, hint) => {
    const before = tf.memory().numTensors;
    const x = tf.ones([4, 3]);
    const message = 'the `group` option must be a collective.CollectiveGroup (from collective.init, initFromEnv or ' +
      `getDefaultGroup), or null/undefined for the default group; ${hint}`;
    const opts = {group: group as unknown as collective.CollectiveGroup};
    expect(() => syncBatchNorm(x, opts)).toThrow(message);
    expect(() => inplaceABN(x, {training: true, ...opts})).toThrow(message);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('a group from another copy of the package (duck-typed) is accepted', () => {
    const real = new collective.CollectiveGroup(new collective.SingleProcessTransport());
    const foreign = {rank: 0, worldSize: 1, isDestroyed: false, allReduceSum: (d: Float64Array) => real.allReduceSum(d),
                     allGather: (d: Float64Array) => real.allGather(d)};
    const x = tf.tensor2d([[1, 2], [3, 4]]);
    const out = syncBatchNorm(x, {group: foreign as unknown as collective.CollectiveGroup});
    expect(Array.from(out.mean.dataSync())).toEqual([2, 3]);
    tf.dispose([x, out.y, out.mean, out.variance]);
  });
});
