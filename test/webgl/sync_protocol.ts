/**
 * Messages between the jest suites, the cross-origin-isolated sync page (sync_page.ts) and its
 * Web Worker ranks (sync_worker.ts). Types only: each side is bundled separately.
 */
import type {FixtureTensor} from '../support/fixtures.js';

/** The ops a rank can run with its slice of the batch, synchronized over the thread group. */
export type SyncOp = 'syncBatchNorm' | 'inplaceABN' | 'sparseBatchNorm';

export interface RankTask {
  op: SyncOp;
  /** Options besides the tensors and the group (epsilon, dataFormat, activation, alpha). */
  opts: Record<string, unknown>;
  x: FixtureTensor;
  dy: FixtureTensor;
  gamma: FixtureTensor | null;
  beta: FixtureTensor | null;
  /** sparseBatchNorm: the sparse dims of the COO tensor (x is its values matrix [nnz, C]). */
  sparseShape?: number[];
  /** sparseBatchNorm: index of this rank's first stored entry in the whole batch. */
  first?: number;
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

export interface RankReply {
  ok: boolean;
  rank: number;
  /** The backend the op ran on (must be webgl). */
  backend?: string;
  error?: string;
  y?: number[];
  mean?: number[];
  variance?: number[];
  count?: number;
  dx?: number[];
  dgamma?: number[] | null;
  dbeta?: number[] | null;
  /** sparseBatchNorm: indices and shape passed through unchanged. */
  passThrough?: boolean;
  /** tf.memory().numTensors and numBytesInGPU after the task minus before. */
  leakedTensors?: number;
  leakedBytes?: number;
}
