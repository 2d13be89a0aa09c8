/**
 * Messages between the jest suites, the cross-origin-isolated sync page (sync_page.ts) and its
 * Web Worker ranks (sync_worker.ts). A task is what test/support/sync_checks.ts `rankMessages`
 * makes for a rank; a reply has the fields its `checkReplies` reads, as the Node thread ranks
 * (test/collective/workers/rank_worker.cjs) send them. Types only: each side is bundled apart.
 */
import type {FixtureTensor} from '../support/fixtures.js';
import type {SyncOp, SyncReply} from '../support/sync_checks.js';

export interface RankTask {
  op: SyncOp;
  /** Options besides the tensors and the group (epsilon, dataFormat, activation, alpha). */
  opts: Record<string, unknown>;
  x: FixtureTensor;
  dy: FixtureTensor;
  gamma: FixtureTensor | null;
  beta: FixtureTensor | null;
  /** sparseBatchNorm: x holds rows `offset…` of the values matrix of a COO tensor of this shape. */
  coo?: {shape: number[]; offset: number};
}

/** What a rank reports once it has started its backend and joined the group. */
export interface RankEnv {
  rank: number;
  backend: string;
  webglVersion: number;
  float32Enabled: boolean;
  offscreenCanvas: boolean;
  crossOriginIsolated: boolean;
  error?: string;
}

export interface RankReply extends SyncReply {
  /** The backend the op ran on (must be webgl). */
  backend?: string;
  y?: number[];
  mean?: number[];
  variance?: number[];
  count?: number | null;
  dx?: number[];
  dgamma?: number[] | null;
  dbeta?: number[] | null;
  /** sparseBatchNorm: indices and shape passed through unchanged. */
  cooKept?: boolean;
  /** Tensors left after disposing the outputs, and after disposing the inputs too. */
  leaked?: number;
  leakedAll?: number;
  /** TensorFlow handles (tensorflow backend only): always 0 here. */
  leakedHandles?: number;
  /** numBytesInGPU after the task (inputs disposed) minus before. */
  leakedBytes?: number;
}
