/**
 * Synchronized ops across ranks (test/collective/workers/rank_worker.cjs) against the PyTorch
 * batch-norm fixtures of the concatenated batch: which cases each op is checked on, the message
 * for each rank (its uneven shard, test/collective/splits.cjs), and the check of the replies.
 * Free of jest, so that the cpu and tensorflow suites share it.
 */
import {compare, sliceBatch, type FixtureCase, type FixtureTensor} from './fixtures.js';
import {loadFixtures} from './load.js';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const {splits} = require('../collective/splits.cjs') as {splits: (N: number, world: number) => number[]};

export type SyncOp = 'syncBatchNorm' | 'inplaceABN' | 'sparseBatchNorm';

/** A rank's reply, as test/collective/thread_ranks.ts returns it. */
export interface SyncReply {ok: boolean; rank: number; error?: string; [k: string]: unknown}

/** A fixture tensor with channels on `axis` (1 or last) as the `[rows, C]` matrix of its channel vectors. */
function channelRows(t: FixtureTensor, channelsFirst: boolean): FixtureTensor {
  const C = channelsFirst ? t.shape[1] : t.shape[t.shape.length - 1];
  const rows = t.data.length / C;
  if (!channelsFirst) return {shape: [rows, C], data: t.data};
  const N = t.shape[0];
  const S = rows / N;
  const data = new Array<number>(t.data.length);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      for (let s = 0; s < S; s++) data[(n * S + s) * C + c] = t.data[(n * C + c) * S + s];
    }
  }
  return {shape: [rows, C], data};
}

/**
 * A batch-norm fixture case as a case of batch norm over a sparse tensor's values matrix
 * `[nnz, C]`: batch norm over every axis but the channel axis is batch norm over the matrix of
 * channel vectors, so x, dy, y and dx are reshaped (transposed for NCHW) and the per-channel
 * expectations stay as they are.
 */
export function asValuesMatrix(c: FixtureCase): FixtureCase {
  const nchw = c.opts.dataFormat === 'NCHW';
  const rows = (t: FixtureTensor | null | undefined) => (t ? channelRows(t, nchw) : null);
  return {
    ...c,
    name: `${c.name} as values [${rows(c.inputs.x)!.shape}]`,
    opts: {...c.opts, dataFormat: null},
    inputs: {...c.inputs, x: rows(c.inputs.x), dy: rows(c.inputs.dy)},
    expected: {...c.expected, y: rows(c.expected.y), dx: rows(c.expected.dx)},
  };
}

/** The training cases each synchronized op is checked on (batches of 2 or more to split). */
export function syncCases(op: SyncOp): FixtureCase[] {
  const training = loadFixtures('batch_norm').cases.filter((c) => c.opts.training);
  switch (op) {
    case 'syncBatchNorm': return training.filter((c) => c.inputs.x!.shape[0] >= 2);
    // In-Place ABN takes the invertible activations only.
    case 'inplaceABN': return training.filter((c) => c.opts.activation !== 'relu' && c.inputs.x!.shape[0] >= 2);
    case 'sparseBatchNorm': return training.map(asValuesMatrix);
  }
}

export interface RankPlan {sizes: number[]; starts: number[]; msgs: object[]}

/** One message per rank: its shard of x and dy along the batch axis (rows for sparse), uneven. */
export function rankMessages(op: SyncOp, c: FixtureCase, world: number): RankPlan {
  const N = c.inputs.x!.shape[0];
  const sizes = splits(N, world);
  const starts = sizes.map((_, r) => sizes.slice(0, r).reduce((a, b) => a + b, 0));
  const opts: Record<string, unknown> = {};
  for (const k of ['epsilon', 'dataFormat', 'activation', 'alpha']) if (c.opts[k] != null) opts[k] = c.opts[k];
  // The fixtures' default activation is linear; In-Place ABN's is leakyRelu.
  if (op === 'inplaceABN') opts.activation ??= 'linear';
  const C = c.expected.mean!.data.length;
  const msgs = sizes.map((size, r) => ({
    op, opts, gamma: c.inputs.gamma, beta: c.inputs.beta,
    x: sliceBatch(c.inputs.x!, starts[r], size), dy: sliceBatch(c.inputs.dy!, starts[r], size),
    ...(op === 'sparseBatchNorm' ? {coo: {shape: [world, N, C], offset: starts[r]}} : {}),
  }));
  return {sizes, starts, msgs};
}

/**
 * Mismatches of the ranks' replies against the concatenated batch (empty when it passes): each
 * rank's y and dx are its slice of the reference, mean/variance/count the global ones, the sum
 * of the ranks' dgamma/dbeta the reference's (each rank returns its share), nothing leaked
 * (tfjs tensors, and TensorFlow handles on tensorflow), and every rank ran on `backend`.
 */
export function checkReplies(c: FixtureCase, plan: RankPlan, replies: SyncReply[], backend: string): string[] {
  const {sizes, starts} = plan;
  const bad: string[] = [];
  const C = c.expected.mean!.data.length;
  const dgamma = new Float64Array(C);
  const dbeta = new Float64Array(C);
  if (replies.length !== sizes.length) return [`${replies.length} replies for ${sizes.length} ranks`];
  replies.forEach((rep, r) => {
    const tag = (s: string) => `rank ${r} (${sizes[r]} of ${c.inputs.x!.shape[0]}) ${s}`;
    if (rep.backend !== backend) bad.push(tag(`ran on ${String(rep.backend)}, not ${backend}`));
    if (!rep.ok) { bad.push(tag(`failed: ${rep.error}`)); return; }
    bad.push(...compare(tag('y'), rep.y as number[], sliceBatch(c.expected.y!, starts[r], sizes[r])));
    bad.push(...compare(tag('dx'), rep.dx as number[], sliceBatch(c.expected.dx!, starts[r], sizes[r])));
    bad.push(...compare(tag('mean'), rep.mean as number[], c.expected.mean!));
    bad.push(...compare(tag('variance'), rep.variance as number[], c.expected.variance!));
    if (rep.count != null && rep.count !== c.inputs.x!.data.length / C) bad.push(tag(`count ${String(rep.count)}`));
    if ('cooKept' in rep && rep.cooKept !== true) bad.push(tag('sparse indices or shape changed'));
    for (const k of ['leaked', 'leakedAll', 'leakedHandles']) {
      if (rep[k] !== 0) bad.push(tag(`${k} ${String(rep[k])}`));
    }
    (rep.dgamma as number[] | null)?.forEach((v, i) => { dgamma[i] += v; });
    (rep.dbeta as number[] | null)?.forEach((v, i) => { dbeta[i] += v; });
  });
  if (c.expected.dgamma) bad.push(...compare('Σ dgamma', dgamma, c.expected.dgamma));
  if (c.expected.dbeta) bad.push(...compare('Σ dbeta', dbeta, c.expected.dbeta));
  return bad;
}
