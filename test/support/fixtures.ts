/**
 * Checks one PyTorch fixture case (scripts/gen_fixtures.py) against the ops, on whatever
 * backend is active. Free of jest so that the browser suites can run it too.
 */
import type * as tfType from '@tensorflow/tfjs-core';

type TF = typeof tfType;

export interface FixtureTensor {shape: number[]; data: number[]}

export interface FixtureCase {
  name: string;
  op: 'batchNorm' | 'layerNorm' | 'groupNorm' | 'instanceNorm' | 'rmsNorm';
  opts: Record<string, unknown>;
  inputs: Record<string, FixtureTensor | null>;
  expected: Record<string, FixtureTensor | null>;
}

export interface FixtureFile {generator: string; torch: string; cases: FixtureCase[]}

export interface NormOps {
  batchNorm: (x: tfType.Tensor, o: never) => {y: tfType.Tensor; mean: tfType.Tensor; variance: tfType.Tensor};
  layerNorm: (x: tfType.Tensor, o: never) => tfType.Tensor;
  groupNorm: (x: tfType.Tensor, o: never) => tfType.Tensor;
  instanceNorm: (x: tfType.Tensor, o: never) => tfType.Tensor;
  rmsNorm?: (x: tfType.Tensor, o: never) => tfType.Tensor;
}

function rmsOf(data: number[]): number {
  let ss = 0;
  for (const v of data) ss += v * v;
  return Math.sqrt(ss / Math.max(1, data.length));
}

/**
 * `|a - e| <= rtol * |e| + atol * rms(e)`: relative per element, with a floor scaled to the
 * tensor so that entries that cancel to ~0 are judged against the tensor's size.
 */
export function compare(name: string, actual: ArrayLike<number>, expected: FixtureTensor,
                        rtol = 1e-4, atol = 1e-4, absFloor = 0): string[] {
  const e = expected.data;
  if (actual.length !== e.length) return [`${name}: length ${actual.length} != ${e.length}`];
  const rms = rmsOf(e);
  // A reference that is zero but for float64 round-off (e.g. the gradient through a group of
  // one element) is judged with an absolute tolerance.
  const floor = Math.max(absFloor, rms < 1e-12 ? atol : atol * rms);
  const bad: string[] = [];
  for (let i = 0; i < e.length; i++) {
    const err = Math.abs(actual[i] - e[i]);
    if (!(err <= rtol * Math.abs(e[i]) + floor)) {
      bad.push(`${name}[${i}]: got ${actual[i]}, expected ${e[i]} (err ${err.toExponential(2)})`);
      if (bad.length >= 3) break;
    }
  }
  return bad;
}

/** Elements reduced into one statistics slot, or Infinity when statistics are given. */
export function elementsPerSlot(c: FixtureCase): number {
  const shape = c.inputs.x!.shape;
  const size = shape.reduce((a, b) => a * b, 1);
  const channelAxis = c.opts.dataFormat === 'NCHW' ? 1 : shape.length - 1;
  const C = shape[channelAxis];
  switch (c.op) {
    case 'batchNorm': return c.opts.training ? size / C : Infinity;
    case 'groupNorm': return size / shape[0] / (c.opts.groups as number);
    case 'instanceNorm': return size / shape[0] / C;
    default: {
      const axes = c.opts.axes ?? [-1];
      const k = Array.isArray(axes) ? axes.length : 1;
      return shape.slice(shape.length - k).reduce((a, b) => a * b, 1);
    }
  }
}

/**
 * Checks on tensors made inside `tf.tidy`, read after it: synchronously (`readSync`, cpu, webgl,
 * wasm, tensorflow) or with `await data()` (`read`): WebGPU's synchronous read-back does not work
 * in headless Chromium here. The tensors are kept until read, then disposed.
 */
export class Deferred {
  private items: Array<[tfType.Tensor, (v: ArrayLike<number>) => string[]]> = [];
  constructor(private readonly tf: TF) {}

  /** Runs `check` on the values of `t` once they are read. */
  on(t: tfType.Tensor, check: (v: ArrayLike<number>) => string[]): void {
    this.items.push([this.tf.keep(t), check]);
  }

  /** `compare(name, values of t, expected, ...)` once read. */
  compare(name: string, t: tfType.Tensor, expected: FixtureTensor, rtol = 1e-4, atol = 1e-4, absFloor = 0): void {
    this.on(t, (v) => compare(name, v, expected, rtol, atol, absFloor));
  }

  readSync(): string[] {
    try {
      return this.items.flatMap(([t, check]) => check(t.dataSync() as ArrayLike<number>));
    } finally {
      this.dispose();
    }
  }

  async read(): Promise<string[]> {
    try {
      const bad: string[] = [];
      for (const [t, check] of this.items) bad.push(...check(await t.data() as ArrayLike<number>));
      return bad;
    } finally {
      this.dispose();
    }
  }

  /** Disposes what was queued without reading it (the check threw). */
  discard(): void {
    this.dispose();
  }

  private dispose(): void {
    this.tf.dispose(this.items.map(([t]) => t));
    this.items = [];
  }
}

/** Runs a case forward and backward; returns the mismatches (empty when it passes). */
export function checkCase(tf: TF, ops: NormOps, c: FixtureCase): string[] {
  const d = new Deferred(tf);
  queue(d, () => caseChecks(tf, ops, c, d));
  return d.readSync();
}

/** `checkCase` reading the results asynchronously (for webgpu). */
export async function checkCaseAsync(tf: TF, ops: NormOps, c: FixtureCase): Promise<string[]> {
  const d = new Deferred(tf);
  queue(d, () => caseChecks(tf, ops, c, d));
  return d.read();
}

/** Runs `f`, which queues checks on `d`; if it throws, what was queued is disposed. */
export function queue(d: Deferred, f: () => void): void {
  try {
    f();
  } catch (e) {
    d.discard();
    throw e;
  }
}

/** Runs a case forward and backward; the comparisons are queued on `d`. */
function caseChecks(tf: TF, ops: NormOps, c: FixtureCase, d: Deferred): void {
  const t = (f: FixtureTensor | null) => (f ? tf.tensor(f.data, f.shape, 'float32') : undefined);
  tf.tidy(() => {
    const x = t(c.inputs.x)!;
    const dy = t(c.inputs.dy)!;
    const gamma = t(c.inputs.gamma);
    const beta = t(c.inputs.beta);
    const mean = t(c.inputs.mean);
    const variance = t(c.inputs.variance);
    const base: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(c.opts)) if (v !== null && v !== undefined) base[k] = v;
    const run = (xx: tfType.Tensor, g?: tfType.Tensor, b?: tfType.Tensor,
                 m?: tfType.Tensor, v?: tfType.Tensor) => {
      const o: Record<string, unknown> = {...base};
      if (g) o.gamma = g;
      if (b) o.beta = b;
      if (c.op === 'batchNorm') {
        if (m) o.mean = m;
        if (v) o.variance = v;
        return ops.batchNorm(xx, o as never);
      }
      return {y: ops[c.op]!(xx, o as never)};
    };
    const out = run(x, gamma, beta, mean, variance) as {y: tfType.Tensor; mean?: tfType.Tensor; variance?: tfType.Tensor};
    d.compare('y', out.y, c.expected.y!);
    if (c.expected.mean && c.opts.training) d.compare('mean', out.mean!, c.expected.mean);
    if (c.expected.variance && c.opts.training) d.compare('variance', out.variance!, c.expected.variance);

    // Gradients of sum(y * dy) with respect to every input that has an expected gradient.
    const names = ['x', 'gamma', 'beta', 'mean', 'variance'].filter((n) => c.expected[`d${n}`]);
    const inputs: Record<string, tfType.Tensor | undefined> = {x, gamma, beta, mean, variance};
    const grads = tf.grads((...xs: tfType.Tensor[]) => {
      const m: Record<string, tfType.Tensor | undefined> = {...inputs};
      names.forEach((n, i) => { m[n] = xs[i]; });
      return tf.sum(tf.mul(run(m.x!, m.gamma, m.beta, m.mean, m.variance).y, dy));
    })(names.map((n) => inputs[n]!));
    // With two elements per slot, xhat = ±1 up to epsilon and dx is what is left after terms of
    // size |dy| * rstd cancel: float32 resolves it only to about 1e-7 of those terms.
    const twoPerSlot = elementsPerSlot(c) <= 2;
    let dyScale = 0;
    for (const v of c.inputs.dy!.data) dyScale = Math.max(dyScale, Math.abs(v));
    names.forEach((n, i) => {
      const e = c.expected[`d${n}`]!;
      const absFloor = n === 'x' && twoPerSlot ? 1e-6 * dyScale : 0;
      d.compare(`d${n}`, grads[i], e, 1e-4, 1e-4, absFloor);
    });
  });
}

/** The slice `[start, start + size)` of a fixture tensor along its first (batch) axis. */
export function sliceBatch(t: FixtureTensor, start: number, size: number): FixtureTensor {
  const per = t.data.length / t.shape[0];
  return {shape: [size, ...t.shape.slice(1)], data: t.data.slice(start * per, (start + size) * per)};
}
