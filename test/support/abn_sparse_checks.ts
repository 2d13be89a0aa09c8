/**
 * The In-Place ABN and sparse BatchNorm checks of the browser suites (webgl, webgpu), on the
 * active backend: the PyTorch batch-norm fixtures through both ops (values and gradients), the
 * release of `x` by `inPlace: true`, as test/ops/inplace_abn.test.ts and sparse_batch_norm.test.ts
 * do on cpu.
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import {checkCaseAsync, Deferred, queue, type FixtureCase, type NormOps} from './fixtures.js';
import {guarded, type CheckResult} from '../webgl/guard.js';

type T = tf.Tensor;

/** Largest |a - b| as a scalar tensor (read with the other deferred checks). */
function maxAbsDiff(a: T, b: T): T {
  return tf.max(tf.abs(tf.sub(a, b)));
}

// inplaceABN's default activation is leakyRelu; batchNorm's is linear: say it explicitly.
const asABN = {
  batchNorm: (x: T, o: object) => norms.inplaceABN(x, {activation: 'linear', ...o} as never),
} as unknown as NormOps;

export async function abnFixtures(cases: FixtureCase[]): Promise<Record<string, CheckResult>> {
  const out: Record<string, CheckResult> = {};
  for (const c of cases) out[c.name] = await guarded(() => checkCaseAsync(tf, asABN, c));
  return out;
}

export function coo(values: tf.Tensor2D, sparseShape: number[]): norms.SparseCoo {
  const nnz = values.shape[0];
  const idx = sparseShape.map((d, k) => Array.from({length: nnz}, (_, i) => (i * (k + 3)) % d));
  return {indices: tf.tensor2d(idx, [sparseShape.length, nnz], 'int32'), values, shape: [...sparseShape, values.shape[1]]};
}

/** Values, mean and the values' gradient of one fixture as a COO tensor (read asynchronously). */
export async function sparseCase(c: FixtureCase): Promise<string[]> {
  const d = new Deferred(tf);
  const bad: string[] = [];
  queue(d, () => tf.tidy(() => {
    const t = (f: {data: number[]; shape: number[]} | null) => (f ? tf.tensor(f.data, f.shape) : undefined);
    const input = coo(t(c.inputs.x) as tf.Tensor2D, [2, 5, 5]);
    const opts: Record<string, unknown> = {gamma: t(c.inputs.gamma), beta: t(c.inputs.beta), mean: t(c.inputs.mean),
      variance: t(c.inputs.variance)};
    for (const k of ['training', 'epsilon', 'activation', 'alpha']) if (c.opts[k] != null) opts[k] = c.opts[k];
    const {output, mean} = norms.sparseBatchNorm(input, opts as never);
    if (JSON.stringify(output.shape) !== JSON.stringify(input.shape)) bad.push(`shape [${output.shape}]`);
    const indices = JSON.stringify(Array.from(input.indices.dataSync()));
    d.on(output.indices, (v) => (JSON.stringify(Array.from(v)) === indices ? [] : ['indices changed']));
    d.compare('values', output.values, c.expected.y!);
    if (c.opts.training) d.compare('mean', mean, c.expected.mean!);
    const dv = tf.grad((v: T) => norms.sparseBatchNorm({...input, values: v as tf.Tensor2D}, opts as never).output.values)(
      input.values, t(c.inputs.dy));
    d.compare('dvalues', dv, c.expected.dx!);
  }));
  return [...bad, ...await d.read()];
}

export async function sparseFixtures(cases: FixtureCase[]): Promise<Record<string, CheckResult>> {
  const out: Record<string, CheckResult> = {};
  for (const c of cases) out[c.name] = await guarded(() => sparseCase(c));
  return out;
}

export function expectThrow(f: () => unknown, re: RegExp): string[] {
  try {
    f();
  } catch (e) {
    const m = (e as Error).message;
    return re.test(m) ? [] : [`threw '${m}', expected ${re}`];
  }
  return [`did not throw (expected ${re})`];
}

/** The In-Place ABN specifics of test/ops/inplace_abn.test.ts, on webgl. */
export async function abnChecks(): Promise<Record<string, CheckResult>> {
  const out: Record<string, CheckResult> = {};
  out['the gradient does not keep x'] = await guarded(async () => {
    const d = new Deferred(tf);
    queue(d, () => tf.tidy(() => {
    const x = tf.randomNormal([6, 4], 0, 1, 'float32', 1);
    const gamma = tf.tensor1d([1, -2, 0.5, 3]);
    const dy = tf.randomNormal([6, 4], 0, 1, 'float32', 2);
    // x is made inside the gradient function and released by inPlace: the gradient must not need it.
    const [dxa, dga] = tf.grads((xx: T, g: T) =>
      norms.inplaceABN(tf.mul(xx, 1), {training: true, gamma: g, inPlace: true}).y)([x, gamma], dy);
    const [dxb, dgb] = tf.grads((xx: T, g: T) =>
      norms.batchNorm(xx, {training: true, gamma: g, activation: 'leakyRelu'}).y)([x, gamma], dy);
    const within = (name: string) => (v: ArrayLike<number>) => (v[0] < 1e-5 ? [] : [`${name} differs by ${v[0]}`]);
    d.on(maxAbsDiff(dxa, dxb), within('dx'));
    d.on(maxAbsDiff(dga, dgb), within('dgamma'));
    }));
    return d.read();
  });
  out['inPlace releases x once y exists; using it again is a clear error'] = await guarded(() => {
    const x = tf.randomNormal([64, 8]);
    x.dataSync();
    const bytes = tf.memory().numBytes;
    const {y, mean, variance} = norms.inplaceABN(x, {training: true, inPlace: true});
    const bad: string[] = [];
    if (!x.isDisposed) bad.push('x is not disposed');
    // What is left: y replaces x, plus mean and variance.
    if (tf.memory().numBytes !== bytes + 8 * 2 * 4) bad.push(`numBytes ${tf.memory().numBytes}, expected ${bytes + 64}`);
    bad.push(...expectThrow(() => tf.add(x, 1),
      /inplaceABN: this tensor \(shape \[64,8\]\) was released by 'inPlace: true' and must not be used again/));
    bad.push(...expectThrow(() => x.add(1), /was released by 'inPlace: true'/));
    bad.push(...expectThrow(() => x.dataSync(), /was released by 'inPlace: true'/));
    x.dispose();
    tf.dispose([y, mean, variance]);
    return bad;
  });
  out['a gamma of zero keeps the backward pass finite'] = await guarded(async () => {
    const d = new Deferred(tf);
    queue(d, () => tf.tidy(() => {
      const x = tf.randomNormal([8, 2]);
      const g = tf.grads((xx: T, gg: T) => norms.inplaceABN(xx, {training: true, gamma: gg}).y)([x, tf.tensor1d([0, 1])]);
      g.forEach((t) => d.on(t, (v) => (Array.from(v).every(Number.isFinite) ? [] : ['non-finite gradient'])));
    }));
    return d.read();
  });
  return out;
}

