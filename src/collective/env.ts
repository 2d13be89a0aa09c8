/**
 * Where this process sits in the job, read from the variables the engine that started it sets:
 * torchrun / Kubeflow / `tfjs-norms run` (`RANK`, `WORLD_SIZE`, `LOCAL_RANK`), OpenMPI
 * (`OMPI_COMM_WORLD_*`), MPICH / Intel MPI (`PMI_RANK`, `PMI_SIZE`) and Slurm's `srun`
 * (`SLURM_PROCID`, `SLURM_NTASKS`, `SLURM_LOCALID`). Pure parsing, no Node built-in: the
 * TCP transport's `initFromEnv` uses it, and users may call it to pick a device by local rank.
 */
import {CollectiveError} from './transport.js';

export type Env = Record<string, string | undefined>;

/** Which engine's variables gave the rank and world size. */
export type RendezvousSource = 'torchrun' | 'openmpi' | 'pmi' | 'slurm' | 'none';

export interface Rendezvous {
  rank: number;
  worldSize: number;
  /** Rank within this host, when the engine says (`LOCAL_RANK`, `OMPI_COMM_WORLD_LOCAL_RANK`, …). */
  localRank?: number;
  source: RendezvousSource;
  /** Host rank 0 listens on; `127.0.0.1` for a world of one. */
  masterAddr: string;
  /** Port rank 0 listens on; 0 for a world of one without `MASTER_PORT`. */
  masterPort: number;
  /** `TFJS_NORMS_TOKEN`; empty for a world of one. */
  token: string;
  timeoutMs: number;
  maxMessageBytes: number;
  /**
   * `TFJS_NORMS_RING_THRESHOLD_BYTES` when set (rank 0's applies to all): all-reduces of at least
   * this many bytes go round the ring; -1 (`off`): never.
   */
  ringThresholdBytes?: number;
  /** `TFJS_NORMS_RING_PORT` + the local rank (0 when unknown), when set: this rank's ring listener port. */
  ringPort?: number;
  /** `TFJS_NORMS_RING_ENCRYPT` (`1` or `0`) when set (rank 0's applies to all): encrypt ring frames. */
  ringEncrypt?: boolean;
}

export interface RendezvousOptions {
  /** Overrides `TFJS_NORMS_TIMEOUT_MS`. */
  timeoutMs?: number;
  /** Named at the start of error messages. */
  caller?: string;
}

interface SourceSpec {
  source: Exclude<RendezvousSource, 'none'>;
  label: string;
  rank: string;
  size: string;
  local?: string;
  /** Processes on this host; equal to the world size when every rank is local. */
  localSize?: string;
}

/** In precedence order: the innermost launcher first (torchrun runs under srun or mpirun, not around them). */
const SOURCES: SourceSpec[] = [
  {source: 'torchrun', label: 'torchrun', rank: 'RANK', size: 'WORLD_SIZE', local: 'LOCAL_RANK', localSize: 'LOCAL_WORLD_SIZE'},
  {source: 'openmpi', label: 'OpenMPI', rank: 'OMPI_COMM_WORLD_RANK', size: 'OMPI_COMM_WORLD_SIZE',
   local: 'OMPI_COMM_WORLD_LOCAL_RANK', localSize: 'OMPI_COMM_WORLD_LOCAL_SIZE'},
  {source: 'pmi', label: 'MPICH/Intel MPI', rank: 'PMI_RANK', size: 'PMI_SIZE', local: 'MPI_LOCALRANKID', localSize: 'MPI_LOCALNRANKS'},
  {source: 'slurm', label: 'Slurm', rank: 'SLURM_PROCID', size: 'SLURM_NTASKS', local: 'SLURM_LOCALID'},
];

/** Largest world, timeout and message size we accept: what fits a signed 32-bit field. */
const INT32_MAX = 2 ** 31 - 1;
const DEFAULT_TIMEOUT_MS = 60000;
const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

const isSet = (env: Env, name: string) => env[name] !== undefined && env[name] !== '';

/**
 * A decimal integer in [lo, hi]. Only digits: `0x1`, `1e3`, `1.0`, `-1`, `+1` and blanks are
 * refused (Number() would take most of them).
 */
export function parseEnvInt(name: string, raw: string, lo: number, hi: number, what = `[${lo}, ${hi}]`): number {
  const v = /^[0-9]{1,16}$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(v) || v < lo || v > hi) {
    throw new CollectiveError(`${name} must be a decimal integer in ${what}, got '${raw}'`);
  }
  return v;
}

interface Found {
  spec: SourceSpec;
  rank: number;
  worldSize: number;
  localRank?: number;
  localSize?: number;
}

function readSource(env: Env, spec: SourceSpec): Found | null {
  // Slurm sets SLURM_PROCID = 0 in the batch script itself; only a task of an `srun` step
  // (which has a step id) is one rank of a launch.
  if (spec.source === 'slurm' && !isSet(env, 'SLURM_STEP_ID') && !isSet(env, 'SLURM_STEPID')) return null;
  const hasRank = isSet(env, spec.rank), hasSize = isSet(env, spec.size);
  if (!hasRank && !hasSize) return null;
  if (!hasRank || !hasSize) {
    const [set, unset] = hasRank ? [spec.rank, spec.size] : [spec.size, spec.rank];
    throw new CollectiveError(`${set} is set but ${unset} is not: ${spec.label} sets both; set both or neither`);
  }
  const worldSize = parseEnvInt(spec.size, env[spec.size]!, 1, INT32_MAX);
  const rank = parseEnvInt(spec.rank, env[spec.rank]!, 0, worldSize - 1, `[0, ${spec.size} - 1] = [0, ${worldSize - 1}]`);
  const found: Found = {spec, rank, worldSize};
  if (spec.local && isSet(env, spec.local)) {
    found.localRank = parseEnvInt(spec.local, env[spec.local]!, 0, worldSize - 1, `[0, ${worldSize - 1}]`);
  }
  if (spec.localSize && isSet(env, spec.localSize)) {
    found.localSize = parseEnvInt(spec.localSize, env[spec.localSize]!, 1, worldSize, `[1, ${worldSize}]`);
  }
  return found;
}

const show = (f: Found) => `${f.spec.rank}=${f.rank}, ${f.spec.size}=${f.worldSize} (${f.spec.label})`;
const isMpi = (f: Found) => f.spec.source === 'openmpi' || f.spec.source === 'pmi';

/**
 * Throws when an outer source contradicts the chosen one. A launch inside another (torchrun
 * under srun, ranks of `tfjs-norms run` under mpirun) has at least as many ranks as the outer
 * one; the same number of ranks with another rank, or fewer, means stale variables (e.g. a
 * `RANK` exported in the shell that mpirun copied to every rank).
 */
function checkAgreement(chosen: Found, other: Found): void {
  // mpirun inside an sbatch allocation launches its daemons with srun: their Slurm ids are not ranks.
  if (isMpi(chosen) && other.spec.source === 'slurm') return;
  if (other.worldSize === chosen.worldSize && other.rank === chosen.rank) return;
  if (other.worldSize < chosen.worldSize) return;
  throw new CollectiveError(`the environment describes two different launches: ${show(chosen)} but ` +
    `${show(other)}. Remove the stale variables (e.g. \`unset ${chosen.spec.rank} ${chosen.spec.size}\`) ` +
    'or make them agree');
}

/** Host names and IP addresses (IPv6 without brackets); no ports, schemes or blanks. */
const HOST_RE = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,252})|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.%A-Za-z]*)$/;

function masterAddress(env: Env, chosen: Found | null): string {
  if (isSet(env, 'MASTER_ADDR')) {
    const addr = env.MASTER_ADDR!;
    if (!HOST_RE.test(addr) || /^[^:]*:[0-9]+$/.test(addr)) {
      throw new CollectiveError(`MASTER_ADDR must be a host name or an IP address (no port, no scheme), got '${addr}'`);
    }
    return addr;
  }
  if (chosen === null || chosen.worldSize === 1) return '127.0.0.1';
  if (chosen.localSize === chosen.worldSize) return '127.0.0.1'; // every rank on this host
  const nodeList = ['SLURM_STEP_NODELIST', 'SLURM_JOB_NODELIST', 'SLURM_NODELIST'].find((n) => isSet(env, n));
  if (nodeList) {
    // Rank 0 (task 0 of the step, or mpirun's own host) runs on the first node.
    const first = expandHostlist(env[nodeList]!, 1)[0];
    if (first === undefined) throw new CollectiveError(`${nodeList} is empty`);
    return first;
  }
  if (chosen.spec.source === 'torchrun') return '127.0.0.1'; // torch.distributed's default
  throw new CollectiveError(`MASTER_ADDR is not set and the ${chosen.spec.label} ranks may span several hosts: ` +
    "export MASTER_ADDR=<address of rank 0's host> on every rank (mpirun: -x MASTER_ADDR)");
}

/**
 * Rank, world size and rendezvous address of this process, from `env` (default `process.env`).
 * The first engine in the order torchrun/Kubeflow, OpenMPI, MPICH/Intel MPI, Slurm (`srun` tasks
 * only) whose variables are set gives rank and world size; no engine means a world of one.
 * `MASTER_ADDR` defaults to 127.0.0.1 when every rank is on this host (or under torchrun), else
 * to the first host of the Slurm allocation. Every variable read is checked at once (decimal
 * integers only, ports 1–65535) and errors name it with its allowed range.
 */
export function rendezvousFromEnv(env: Env = defaultEnv(), opts: RendezvousOptions = {}): Rendezvous {
  const caller = opts.caller ?? 'rendezvousFromEnv';
  try {
    return resolve(env, opts);
  } catch (e) {
    if (e instanceof CollectiveError) throw new CollectiveError(`${caller}: ${e.message}`);
    throw e;
  }
}

function resolve(env: Env, opts: RendezvousOptions): Rendezvous {
  const found = SOURCES.map((s) => readSource(env, s)).filter((f): f is Found => f !== null);
  const chosen = found[0] ?? null;
  for (const other of found.slice(1)) checkAgreement(chosen!, other);
  const rank = chosen?.rank ?? 0, worldSize = chosen?.worldSize ?? 1;

  const masterPort = isSet(env, 'MASTER_PORT') ? parseEnvInt('MASTER_PORT', env.MASTER_PORT!, 1, 65535) : 0;
  const masterAddr = masterAddress(env, chosen);
  let timeoutMs: number;
  if (opts.timeoutMs !== undefined) {
    if (!Number.isInteger(opts.timeoutMs) || opts.timeoutMs < 1 || opts.timeoutMs > INT32_MAX) {
      throw new CollectiveError(`timeoutMs must be an integer in [1, ${INT32_MAX}] (ms), got ${opts.timeoutMs}`);
    }
    timeoutMs = opts.timeoutMs;
  } else {
    timeoutMs = isSet(env, 'TFJS_NORMS_TIMEOUT_MS')
      ? parseEnvInt('TFJS_NORMS_TIMEOUT_MS', env.TFJS_NORMS_TIMEOUT_MS!, 1, INT32_MAX) : DEFAULT_TIMEOUT_MS;
  }
  let maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
  if (isSet(env, 'TFJS_NORMS_MAX_MESSAGE_BYTES')) {
    maxMessageBytes = parseEnvInt('TFJS_NORMS_MAX_MESSAGE_BYTES', env.TFJS_NORMS_MAX_MESSAGE_BYTES!, 8, 2 ** 32,
                                  `[8, ${2 ** 32}] and a multiple of 8`);
    if (maxMessageBytes % 8 !== 0) {
      throw new CollectiveError(`TFJS_NORMS_MAX_MESSAGE_BYTES must be a multiple of 8 in [8, ${2 ** 32}], got '${maxMessageBytes}'`);
    }
  }
  const token = env.TFJS_NORMS_TOKEN ?? '';
  if (worldSize > 1) {
    const from = chosen!.spec;
    if (masterPort === 0) {
      throw new CollectiveError(`MASTER_PORT is not set (${from.size}=${worldSize}): export the same free TCP port ` +
        'in [1, 65535] on every rank');
    }
    if (!token) {
      throw new CollectiveError('TFJS_NORMS_TOKEN is not set: every rank must present the same secret ' +
        '(the launcher `tfjs-norms run` sets one; under mpirun, Slurm or Kubernetes, export the same value on ' +
        'every rank, see docs/distributed.md)');
    }
  }
  const out: Rendezvous = {rank, worldSize, source: chosen?.spec.source ?? 'none', masterAddr, masterPort, token,
                           timeoutMs, maxMessageBytes};
  if (chosen?.localRank !== undefined) out.localRank = chosen.localRank;
  if (isSet(env, 'TFJS_NORMS_RING_THRESHOLD_BYTES')) {
    const raw = env.TFJS_NORMS_RING_THRESHOLD_BYTES!;
    out.ringThresholdBytes = raw === 'off' ? -1
      : parseEnvInt('TFJS_NORMS_RING_THRESHOLD_BYTES', raw, 0, 2 ** 32, `[0, ${2 ** 32}] or 'off'`);
  }
  if (isSet(env, 'TFJS_NORMS_RING_ENCRYPT')) {
    const raw = env.TFJS_NORMS_RING_ENCRYPT!;
    if (raw !== '0' && raw !== '1') throw new CollectiveError(`TFJS_NORMS_RING_ENCRYPT must be 1 or 0, got '${raw}'`);
    out.ringEncrypt = raw === '1';
  }
  if (isSet(env, 'TFJS_NORMS_RING_PORT')) {
    const base = parseEnvInt('TFJS_NORMS_RING_PORT', env.TFJS_NORMS_RING_PORT!, 1, 65535);
    const port = base + (out.localRank ?? 0);
    if (port > 65535) {
      throw new CollectiveError(`TFJS_NORMS_RING_PORT ${base} + local rank ${out.localRank} is past port 65535`);
    }
    out.ringPort = port;
  }
  return out;
}

function defaultEnv(): Env {
  return (globalThis as {process?: {env?: Env}}).process?.env ?? {};
}

/**
 * Expands a Slurm host list such as `node[01-03,07],gpu5` or `rack[1-2]-n[1-2]` into host names
 * (zero padding kept), stopping after `limit` names.
 */
export function expandHostlist(list: string, limit = 65536): string[] {
  const out: string[] = [];
  for (const item of splitTopLevel(list)) {
    for (const host of expandItem(item, list)) {
      if (out.length >= limit) return out;
      out.push(host);
    }
  }
  return out;
}

function splitTopLevel(list: string): string[] {
  const items: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < list.length; i++) {
    const ch = list[i];
    if (ch === '[') depth++;
    else if (ch === ']') depth--;
    if (depth < 0 || depth > 1) throw new CollectiveError(`malformed host list '${list}'`);
    if (ch === ',' && depth === 0) { items.push(list.slice(start, i)); start = i + 1; }
  }
  if (depth !== 0) throw new CollectiveError(`malformed host list '${list}': unclosed '['`);
  items.push(list.slice(start));
  return items.map((s) => s.trim()).filter((s) => s !== '');
}

/** The hosts of one item, lazily (an item like `n[0-99999999]` is never materialized). */
function* expandItem(item: string, list: string): Generator<string> {
  const open = item.indexOf('[');
  if (open < 0) { yield item; return; }
  const close = item.indexOf(']', open);
  const prefix = item.slice(0, open);
  const rest = item.slice(close + 1);
  for (const part of item.slice(open + 1, close).split(',')) {
    const m = /^([0-9]+)(?:-([0-9]+))?$/.exec(part.trim());
    if (!m) throw new CollectiveError(`malformed host list '${list}': bad range '${part}'`);
    const lo = Number(m[1]), hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new CollectiveError(`malformed host list '${list}': range '${part}' runs backwards`);
    const width = m[1].length;
    for (let n = lo; n <= hi; n++) {
      const name = prefix + String(n).padStart(width, '0');
      for (const tail of expandItem(rest, list)) yield name + tail;
    }
  }
}
