/**
 * A rank of a thread group in a Web Worker of the sync page: starts tfjs's webgl backend on an
 * OffscreenCanvas, joins the group from the handle the page posts, and runs each task (its
 * slice of a batch) forward and backward, posting the results back. It never falls back to
 * another backend: a rank that is not on webgl refuses every task.
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import '../../src/webgl.js';
import type {ThreadGroupHandle} from '../../src/collective/index.js';
import type {FixtureTensor} from '../support/fixtures.js';
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

const gpuBytes = () => (tf.memory() as unknown as {numBytesInGPU: number}).numBytesInGPU;
const arr = (t: T) => Array.from(t.dataSync());
const tensor = (f: FixtureTensor | null) => (f ? tf.tensor(f.data, f.shape, 'float32') : undefined);

/** COO indices of `nnz` entries numbered from `first` (any distinct coordinates will do). */
function cooIndices(nnz: number, first: number, sparseShape: number[]): tf.Tensor2D {
  const idx = sparseShape.map((d, k) => Array.from({length: nnz}, (_, i) => ((first + i) * (k + 3)) % d));
  return tf.tensor2d(idx.flat(), [sparseShape.length, nnz], 'int32');
}

interface Forward {y: T; mean: T; variance: T; count: number; passThrough?: boolean}

function run(task: RankTask): Omit<RankReply, 'ok' | 'rank'> {
  const backend = tf.engine().backendName;
  if (backend !== 'webgl') throw new Error(`rank ${rank} is on '${backend}', not webgl: refusing to run`);
  // Measured around the inputs too: their textures are uploaded during the task.
  const t0 = tf.memory().numTensors;
  const b0 = gpuBytes();
  const x = tensor(task.x)!;
  const dy = tensor(task.dy)!;
  const gamma = tensor(task.gamma);
  const beta = tensor(task.beta);
  const indices = task.op === 'sparseBatchNorm' ? cooIndices(task.x.shape[0], task.first!, task.sparseShape!) : undefined;
  const forward = (xx: T, g?: T, b?: T): Forward => {
    const o = {...task.opts, group: group!, gamma: g, beta: b} as Record<string, unknown>;
    switch (task.op) {
      case 'syncBatchNorm':
        return norms.syncBatchNorm(xx, o);
      case 'inplaceABN':
        return norms.inplaceABN(xx, {...o, training: true});
      default: {
        const shape = [...task.sparseShape!, xx.shape[1] as number];
        const r = norms.sparseBatchNorm({indices: indices!, values: xx as tf.Tensor2D, shape}, {...o, training: true});
        const same = JSON.stringify(arr(r.output.indices)) === JSON.stringify(arr(indices!)) &&
          JSON.stringify(r.output.indices.shape) === JSON.stringify(indices!.shape);
        const passThrough = same && r.output.indices !== indices && JSON.stringify(r.output.shape) === JSON.stringify(shape);
        r.output.indices.dispose();
        return {y: r.output.values, mean: r.mean, variance: r.variance, count: -1, passThrough};
      }
    }
  };
  const out = forward(x, gamma, beta);
  const params = [x, gamma, beta].filter((t): t is T => t !== undefined);
  const grads = tf.grads((...ts: T[]) => {
    const [xx, ...rest] = ts;
    const g = gamma ? rest.shift() : undefined;
    const b = beta ? rest.shift() : undefined;
    return forward(xx, g, b).y;
  })(params, dy);
  const reply = {
    backend: tf.engine().backendName,
    y: arr(out.y), mean: arr(out.mean), variance: arr(out.variance), count: out.count, passThrough: out.passThrough,
    dx: arr(grads[0]), dgamma: gamma ? arr(grads[1]) : null, dbeta: beta ? arr(grads[gamma ? 2 : 1]) : null,
  };
  tf.dispose([out.y, out.mean, out.variance, ...grads]);
  tf.dispose([x, dy, gamma, beta, indices].filter((t): t is T => t !== undefined));
  return {...reply, leakedTensors: tf.memory().numTensors - t0, leakedBytes: gpuBytes() - b0};
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
