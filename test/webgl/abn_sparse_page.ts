/**
 * The in-browser side of the webgl inplaceABN / sparseBatchNorm suite: the PyTorch fixtures
 * through both ops on webgl (values and gradients), the release of `x` by `inPlace: true`,
 * and leaks, as test/ops/inplace_abn.test.ts and sparse_batch_norm.test.ts do on cpu.
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import '../../src/webgl.js';
import {checkCase, compare, type FixtureCase, type NormOps} from '../support/fixtures.js';
import {guarded, maxAbsDiff, startWebgl, type CheckResult} from './guard.js';

type T = tf.Tensor;

// inplaceABN's default activation is leakyRelu; batchNorm's is linear: say it explicitly.
const asABN = {
  batchNorm: (x: T, o: object) => norms.inplaceABN(x, {activation: 'linear', ...o} as never),
} as unknown as NormOps;

async function abnFixtures(cases: FixtureCase[]): Promise<Record<string, CheckResult>> {
  const out: Record<string, CheckResult> = {};
  for (const c of cases) out[c.name] = await guarded(() => checkCase(tf, asABN, c));
  return out;
}

function coo(values: tf.Tensor2D, sparseShape: number[]): norms.SparseCoo {
  const nnz = values.shape[0];
  const idx = sparseShape.map((d, k) => Array.from({length: nnz}, (_, i) => (i * (k + 3)) % d));
  return {indices: tf.tensor2d(idx, [sparseShape.length, nnz], 'int32'), values, shape: [...sparseShape, values.shape[1]]};
}

function sparseCase(c: FixtureCase): string[] {
  return tf.tidy(() => {
    const t = (f: {data: number[]; shape: number[]} | null) => (f ? tf.tensor(f.data, f.shape) : undefined);
    const input = coo(t(c.inputs.x) as tf.Tensor2D, [2, 5, 5]);
    const opts: Record<string, unknown> = {gamma: t(c.inputs.gamma), beta: t(c.inputs.beta), mean: t(c.inputs.mean),
      variance: t(c.inputs.variance)};
    for (const k of ['training', 'epsilon', 'activation', 'alpha']) if (c.opts[k] != null) opts[k] = c.opts[k];
    const {output, mean} = norms.sparseBatchNorm(input, opts as never);
    const bad: string[] = [];
    if (JSON.stringify(output.shape) !== JSON.stringify(input.shape)) bad.push(`shape [${output.shape}]`);
    if (JSON.stringify(Array.from(output.indices.dataSync())) !== JSON.stringify(Array.from(input.indices.dataSync()))) {
      bad.push('indices changed');
    }
    bad.push(...compare('values', output.values.dataSync(), c.expected.y!));
    if (c.opts.training) bad.push(...compare('mean', mean.dataSync(), c.expected.mean!));
    const dv = tf.grad((v: T) => norms.sparseBatchNorm({...input, values: v as tf.Tensor2D}, opts as never).output.values)(
      input.values, t(c.inputs.dy));
    bad.push(...compare('dvalues', dv.dataSync(), c.expected.dx!));
    return bad;
  });
}

async function sparseFixtures(cases: FixtureCase[]): Promise<Record<string, CheckResult>> {
  const out: Record<string, CheckResult> = {};
  for (const c of cases) out[c.name] = await guarded(() => sparseCase(c));
  return out;
}

function expectThrow(f: () => unknown, re: RegExp): string[] {
  try {
    f();
  } catch (e) {
    const m = (e as Error).message;
    return re.test(m) ? [] : [`threw '${m}', expected ${re}`];
  }
  return [`did not throw (expected ${re})`];
}

/** The In-Place ABN specifics of test/ops/inplace_abn.test.ts, on webgl. */
async function abnChecks(): Promise<Record<string, CheckResult>> {
  const out: Record<string, CheckResult> = {};
  out['the gradient does not keep x'] = await guarded(() => tf.tidy(() => {
    const x = tf.randomNormal([6, 4], 0, 1, 'float32', 1);
    const gamma = tf.tensor1d([1, -2, 0.5, 3]);
    const dy = tf.randomNormal([6, 4], 0, 1, 'float32', 2);
    // x is made inside the gradient function and released by inPlace: the gradient must not need it.
    const [dxa, dga] = tf.grads((xx: T, g: T) =>
      norms.inplaceABN(tf.mul(xx, 1), {training: true, gamma: g, inPlace: true}).y)([x, gamma], dy);
    const [dxb, dgb] = tf.grads((xx: T, g: T) =>
      norms.batchNorm(xx, {training: true, gamma: g, activation: 'leakyRelu'}).y)([x, gamma], dy);
    const bad: string[] = [];
    if (!(maxAbsDiff(dxa, dxb) < 1e-5)) bad.push(`dx differs by ${maxAbsDiff(dxa, dxb)}`);
    if (!(maxAbsDiff(dga, dgb) < 1e-5)) bad.push(`dgamma differs by ${maxAbsDiff(dga, dgb)}`);
    return bad;
  }));
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
  out['a gamma of zero keeps the backward pass finite'] = await guarded(() => tf.tidy(() => {
    const x = tf.randomNormal([8, 2]);
    const g = tf.grads((xx: T, gg: T) => norms.inplaceABN(xx, {training: true, gamma: gg}).y)([x, tf.tensor1d([0, 1])]);
    return g.every((t) => Array.from(t.dataSync()).every(Number.isFinite)) ? [] : ['non-finite gradient'];
  }));
  return out;
}

const api = {setup: startWebgl, abnFixtures, sparseFixtures, abnChecks};

declare global {
  interface Window {
    abnSparseTest: typeof api;
  }
}

window.abnSparseTest = api;
