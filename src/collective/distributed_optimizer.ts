/**
 * Data-parallel training: an optimizer that averages gradients over the ranks of a group before
 * applying them (as Horovod's DistributedOptimizer or PyTorch's DDP), and a broadcast of
 * weights so that every replica starts equal. Use it in `model.compile` on every rank.
 */
import {Optimizer, tensor, tidy, type NamedTensorMap, type Tensor, type Variable} from '@tensorflow/tfjs-core';
import {type CollectiveGroup, resolveGroup} from './group.js';
import {CollectiveError, type PendingAllReduce} from './transport.js';

/** A named tensor, as optimizers take gradients (tfjs-core does not export the type). */
type NamedTensor = {name: string; tensor: Tensor};

/** Default bucket size: gradients go out in float32 all-reduces of at most this many bytes. */
const BUCKET_BYTES = 16 * 1024 * 1024;

/**
 * Sums `flat` over the group in place, in float32 all-reduces of at most `bucketBytes` each
 * (every rank cuts the same buckets), so that no message outgrows the transport's limit.
 *
 * Overlapped as far as a synchronous caller can: `prepare(start, end)` fills the next bucket
 * while the previous one is on the wire, and `done(start, end)` finishes a summed bucket while
 * the next one is (with a transport that can start an all-reduce and return,
 * `startAllReduceSumFloat32`; otherwise one after the other).
 */
function allReduceInBuckets(group: CollectiveGroup, flat: Float32Array, bucketBytes: number,
                            prepare: (start: number, end: number) => void = () => undefined,
                            done: (start: number, end: number) => void = () => undefined): void {
  const step = Math.max(1, Math.floor(bucketBytes / 4));
  let inFlight: {start: number; end: number; pending: PendingAllReduce} | null = null;
  for (let start = 0; start < flat.length; start += step) {
    const end = Math.min(flat.length, start + step);
    prepare(start, end);
    const previous = inFlight;
    previous?.pending.wait();
    inFlight = {start, end, pending: group.startAllReduceSum(flat.subarray(start, end))};
    if (previous) done(previous.start, previous.end);
  }
  if (inFlight) {
    inFlight.pending.wait();
    done(inFlight.start, inFlight.end);
  }
}

export class DistributedOptimizer extends Optimizer {
  static get className(): string {
    return 'DistributedOptimizer';
  }

  constructor(readonly inner: Optimizer, readonly group?: CollectiveGroup, readonly bucketBytes = BUCKET_BYTES) {
    super();
    if (!Number.isInteger(bucketBytes) || bucketBytes < 4) {
      throw new CollectiveError(`distributedOptimizer: bucketBytes must be an integer >= 4, got ${bucketBytes}`);
    }
  }

  /**
   * Averages the gradients over the group (float32 all-reduces of at most `bucketBytes`, in
   * variable-name order), then applies them. Each bucket's gradients are read from their
   * tensors while the previous bucket is on the wire, and a summed bucket is averaged while the
   * next one is. (tfjs computes every gradient before `applyGradients`, synchronously, so the
   * communication cannot overlap the backward pass itself as it does in DDP.)
   */
  override applyGradients(variableGradients: NamedTensorMap | NamedTensor[]): void {
    const list: NamedTensor[] = Array.isArray(variableGradients) ? variableGradients
      : Object.entries(variableGradients).map(([name, t]) => ({name, tensor: t}));
    const group = resolveGroup(this.group);
    if (group.worldSize === 1) {
      this.inner.applyGradients(variableGradients);
      return;
    }
    // Every rank must send its gradients in the same order: sort by variable name.
    const sorted = [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const sizes = sorted.map((g) => g.tensor.size);
    const flat = new Float32Array(sizes.reduce((a, b) => a + b, 0));
    // Gradients are read in order as the buckets need them (one may span several buckets).
    let next = 0, filled = 0;
    const prepare = (_start: number, end: number) => {
      while (filled < end && next < sorted.length) {
        flat.set(sorted[next].tensor.dataSync(), filled);
        filled += sizes[next++];
      }
    };
    const average = (start: number, end: number) => {
      for (let i = start; i < end; i++) flat[i] /= group.worldSize;
    };
    allReduceInBuckets(group, flat, this.bucketBytes, prepare, average);
    let offset = 0;
    const averaged: NamedTensor[] = sorted.map((g) => {
      const part = flat.subarray(offset, offset + g.tensor.size);
      offset += g.tensor.size;
      return {name: g.name, tensor: tensor(part.slice(), g.tensor.shape)};
    });
    this.inner.applyGradients(averaged);
    averaged.forEach((g) => g.tensor.dispose());
    this.incrementIterations();
  }

  override dispose(): void {
    this.inner.dispose();
    super.dispose();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    return this.inner.getWeights();
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    return this.inner.setWeights(weightValues);
  }

  override getConfig() {
    return {inner: this.inner.getClassName(), ...this.inner.getConfig()};
  }
}

/**
 * Wraps `optimizer` so that `model.fit` on every rank trains one data-parallel model.
 * `bucketBytes` (default 16 MiB) bounds each gradient all-reduce; keep it within the
 * transport's message limit.
 */
export function distributedOptimizer(optimizer: Optimizer,
                                     opts: {group?: CollectiveGroup; bucketBytes?: number} = {}): DistributedOptimizer {
  return new DistributedOptimizer(optimizer, opts.group, opts.bucketBytes);
}

/** Sets every variable to rank `root`'s value (float32 all-reduces), so replicas start equal. */
export function broadcastVariables(variables: Array<Variable | {read(): Tensor; write(t: Tensor): void}>,
                                   opts: {group?: CollectiveGroup; root?: number} = {}): void {
  const group = resolveGroup(opts.group);
  const root = opts.root ?? 0;
  if (group.worldSize === 1) return;
  const values = variables.map((v) => ('read' in v ? v.read() : v));
  const all = new Float32Array(values.reduce((a, t) => a + t.size, 0));
  if (group.rank === root) {
    let offset = 0;
    for (const t of values) {
      all.set(t.dataSync(), offset);
      offset += t.size;
    }
  }
  // The others add zeros: root's float32 values arrive exactly.
  allReduceInBuckets(group, all, BUCKET_BYTES);
  let offset = 0;
  variables.forEach((v, i) => {
    const t = values[i];
    const part = all.subarray(offset, offset + t.size);
    offset += t.size;
    tidy(() => {
      const next = tensor(part.slice(), t.shape);
      if ('write' in v) v.write(next); else v.assign(next);
    });
  });
}
