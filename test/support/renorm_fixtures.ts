/**
 * Checks a Batch Renormalization case of test/fixtures/renorm.json (PyTorch autograd with r and
 * d detached) against `batchNorm(..., {renorm})` on the active backend. Free of jest.
 */
import type * as tfType from '@tensorflow/tfjs-core';
import {compare, type FixtureTensor} from './fixtures.js';

type TF = typeof tfType;

export interface RenormCase {
  name: string;
  opts: Record<string, unknown> & {renorm: {rMax: number | null; rMin: number | null; dMax: number | null}};
  inputs: Record<string, FixtureTensor | null>;
  expected: Record<string, FixtureTensor>;
}

type BatchNorm = (x: tfType.Tensor, o: never) => {y: tfType.Tensor; mean: tfType.Tensor; variance: tfType.Tensor};

export function checkRenormCase(tf: TF, batchNorm: BatchNorm, c: RenormCase): string[] {
  const t = (f: FixtureTensor | null | undefined) => (f ? tf.tensor(f.data, f.shape, 'float32') : undefined);
  return tf.tidy(() => {
    const x = t(c.inputs.x)!;
    const dy = t(c.inputs.dy)!;
    const gamma = t(c.inputs.gamma);
    const beta = t(c.inputs.beta);
    const renorm: Record<string, unknown> = {mean: t(c.inputs.renormMean), stddev: t(c.inputs.renormStddev)};
    for (const [k, v] of Object.entries(c.opts.renorm)) if (v !== null) renorm[k] = v;
    const base: Record<string, unknown> = {renorm};
    for (const [k, v] of Object.entries(c.opts)) if (v !== null && k !== 'renorm') base[k] = v;
    const run = (xx: tfType.Tensor, g?: tfType.Tensor, b?: tfType.Tensor) =>
      batchNorm(xx, {...base, ...(g ? {gamma: g} : {}), ...(b ? {beta: b} : {})} as never);
    const out = run(x, gamma, beta);
    const bad = [
      ...compare('y', out.y.dataSync(), c.expected.y),
      ...compare('mean', out.mean.dataSync(), c.expected.mean),
      ...compare('variance', out.variance.dataSync(), c.expected.variance),
    ];
    const names = (['x', 'gamma', 'beta'] as const).filter((n) => c.inputs[n]);
    const inputs = {x, gamma, beta};
    const grads = tf.grads((...xs: tfType.Tensor[]) => {
      const m: Record<string, tfType.Tensor | undefined> = {...inputs};
      names.forEach((n, i) => { m[n] = xs[i]; });
      return tf.sum(tf.mul(run(m.x!, m.gamma, m.beta).y, dy));
    })(names.map((n) => inputs[n]!));
    names.forEach((n, i) => bad.push(...compare(`d${n}`, grads[i].dataSync(), c.expected[`d${n}`])));
    return bad;
  });
}
