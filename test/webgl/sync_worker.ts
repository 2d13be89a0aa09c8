/**
 * A rank of a thread group in a Web Worker of the sync page: starts tfjs's webgl backend on an
 * OffscreenCanvas, joins the group from the handle the page posts, and runs each task (its
 * shard of a batch) forward and backward as test/collective/workers/rank_worker.cjs does on
 * cpu and tensorflow, posting the results back. It never falls back to another backend: a
 * rank that is not on webgl refuses every task.
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import '../../src/webgl.js';
import type {ThreadGroupHandle} from '../../src/collective/index.js';
import type {FixtureTensor} from '../support/fixtures.js';
import {gpuBytes} from './guard.js';
import type {RankEnv, RankReply, RankTask} from './sync_protocol.js';

type T = tf.Tensor;

/** The parts of a dedicated worker's global scope used here (the DOM lib does not declare it). */
interface WorkerScope {
  crossOriginIsolated: boolean;
  onmessage: ((e: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
}

const scope = self as unknown as WorkerScope;
let rank = -1;
let group: norms.collective.CollectiveGroup | null = null;

async function init(handle: ThreadGroupHandle, r: number): Promise<RankEnv> {
  rank = r;
  let error: string | undefined;
  try {
    if (!(await tf.setBackend('webgl'))) error = `tf.setBackend('webgl') failed in the worker`;
    await tf.ready();
  } catch (e) {
    error = `webgl did not start in the worker: ${(e as Error).message}`;
  }
  group = new norms.collective.CollectiveGroup(norms.collective.joinThreadGroup(handle, r));
  return {
    rank, error,
    // tf.getBackend() would start another backend if webgl had failed: ask the engine.
    backend: tf.engine().backendName ?? 'none',
    webglVersion: tf.env().getNumber('WEBGL_VERSION'),
    float32Enabled: tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED'),
    offscreenCanvas: typeof OffscreenCanvas !== 'undefined',
    crossOriginIsolated: scope.crossOriginIsolated,
  };
}

const arr = (t: T) => Array.from(t.dataSync());
const tensor = (f: FixtureTensor | null) => (f ? tf.tensor(f.data, f.shape, 'float32') : undefined);

interface Coo {indices: tf.Tensor2D; shape: number[]}
interface Output {y: T; mean: T; variance: T; count: number | null; coo?: norms.SparseCoo}

/** Sparse COO around this rank's rows: entry i sits at (rank, offset + i) of the task's shape. */
function cooFor(task: RankTask, nnz: number): Coo {
  const idx = [new Array<number>(nnz).fill(rank), Array.from({length: nnz}, (_, i) => task.coo!.offset + i)];
  return {indices: tf.tensor2d(idx, [2, nnz], 'int32'), shape: [...task.coo!.shape]};
}

/** The synchronized ops under test on this rank's shard (for sparseBatchNorm, its rows of the values). */
function runOp(task: RankTask, x: T, opts: Record<string, unknown>, coo?: Coo): Output {
  switch (task.op) {
    case 'syncBatchNorm':
      return norms.syncBatchNorm(x, opts);
    case 'inplaceABN':
      return norms.inplaceABN(x, {...opts, training: true});
    default: {
      const r = norms.sparseBatchNorm({indices: coo!.indices, values: x as tf.Tensor2D, shape: coo!.shape}, {...opts, training: true});
      return {y: r.output.values, mean: r.mean, variance: r.variance, count: null, coo: r.output};
    }
  }
}

/** The task forward and backward (the gradient of sum(y·dy)) on this rank, and what it leaked. */
function run(task: RankTask): Omit<RankReply, 'ok' | 'rank'> {
  const backend = tf.engine().backendName;
  if (backend !== 'webgl') throw new Error(`rank ${rank} is on '${backend}', not webgl: refusing to run`);
  const tensors0 = tf.memory().numTensors;
  const bytes0 = gpuBytes();
  const x = tensor(task.x)!;
  const dy = tensor(task.dy)!;
  const gamma = tensor(task.gamma);
  const beta = tensor(task.beta);
  const coo = task.op === 'sparseBatchNorm' ? cooFor(task, task.x.shape[0]) : undefined;
  const before = tf.memory().numTensors;
  const opts = {...task.opts, group: group!};
  const out = runOp(task, x, {...opts, gamma, beta}, coo);
  const params = [x, gamma, beta].filter((t): t is T => t !== undefined);
  const grads = tf.grads((...ts: T[]) => {
    const [xx, ...rest] = ts;
    const g = gamma ? rest.shift() : undefined;
    const b = beta ? rest.shift() : undefined;
    return runOp(task, xx, {...opts, gamma: g, beta: b}, coo).y;
  })(params, dy);
  const reply: Omit<RankReply, 'ok' | 'rank'> = {
    backend: tf.engine().backendName,
    y: arr(out.y), mean: arr(out.mean), variance: arr(out.variance), count: out.count,
    dx: arr(grads[0]), dgamma: gamma ? arr(grads[1]) : null, dbeta: beta ? arr(grads[gamma ? 2 : 1]) : null,
  };
  if (out.coo) {
    reply.cooKept = JSON.stringify(arr(out.coo.indices)) === JSON.stringify(arr(coo!.indices)) &&
      out.coo.indices !== coo!.indices && JSON.stringify(out.coo.shape) === JSON.stringify(coo!.shape);
  }
  tf.dispose([out.y, out.mean, out.variance, out.coo?.indices, ...grads].filter((t): t is T => t !== undefined));
  reply.leaked = tf.memory().numTensors - before;
  tf.dispose([x, dy, gamma, beta, coo?.indices].filter((t): t is T => t !== undefined));
  reply.leakedAll = tf.memory().numTensors - tensors0;
  reply.leakedHandles = 0;
  // Measured around the inputs too: their textures are uploaded during the task.
  reply.leakedBytes = gpuBytes() - bytes0;
  return reply;
}

scope.onmessage = async (e: MessageEvent) => {
  const msg = e.data as {type: 'init'; handle: ThreadGroupHandle; rank: number} | {type: 'task'; task: RankTask} |
    {type: 'destroy'};
  try {
    if (msg.type === 'init') {
      scope.postMessage(await init(msg.handle, msg.rank));
    } else if (msg.type === 'destroy') {
      group?.destroy();
      scope.postMessage({ok: true, rank});
    } else {
      scope.postMessage({ok: true, rank, ...run(msg.task)} satisfies RankReply);
    }
  } catch (err) {
    const error = `${(err as Error).name}: ${(err as Error).message}`;
    // Peers blocked in a collective this rank will never reach fail at once instead of at the
    // timeout; the page starts a fresh group for the next task.
    if (msg.type === 'task') group?.destroy();
    scope.postMessage(msg.type === 'init' ? {rank: msg.rank, backend: 'none', error} : {ok: false, rank, error});
  }
};
