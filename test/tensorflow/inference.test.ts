/**
 * BatchNorm inference (given mean and variance) on the tensorflow backend: one multiply-add
 * (`Mul` + `AddV2`) when every channel's |mean| is within RAW_MEAN_LIMIT standard deviations,
 * `x − mean` first otherwise (data like 1000 + 0.01·noise), `FusedBatchNormV3` with channels
 * last; each against the float64 formula.
 */
import {tf, useTensorflow} from './support/tfnode.js';
import {opsRun} from './support/ops_log.js';
import {batchNorm} from '../../src/index.js';
import {compare} from '../support/fixtures.js';

beforeAll(async () => {
  await useTensorflow();
});

const [N, C, H, W] = [4, 16, 8, 8];
const eps = 1e-3;

function randomData(n: number, seed: number, std: number, mean: number): Float32Array {
  return tf.tidy(() => tf.randomNormal([n], mean, std, 'float32', seed).dataSync() as Float32Array);
}

const cases = [
  // [label, data format, x mean, x std, running mean offset, expected ops]
  ['NCHW, normal data', 'NCHW', 0.5, 2, 0.1, ['Mul', 'AddV2']],
  ['NCHW, 1000 + 0.01·noise', 'NCHW', 1000, 0.01, 0, ['Sub', 'Mul', 'AddV2']],
  ['NHWC, normal data', 'NHWC', 0.5, 2, 0.1, ['FusedBatchNormV3']],
  ['NHWC, 1000 + 0.01·noise', 'NHWC', 1000, 0.01, 0, ['FusedBatchNormV3']],
] as const;

test.each(cases)('%s', (_label, fmt, loc, std, offset, expectedOps) => {
  const shape = fmt === 'NCHW' ? [N, C, H, W] : [N, H, W, C];
  const n = N * C * H * W;
  const channel = (i: number) => (fmt === 'NCHW' ? Math.floor(i / (H * W)) % C : i % C);
  const xs = randomData(n, 1, std, loc);
  const gs = randomData(C, 2, 0.5, 1);
  const bs = randomData(C, 3, 0.5, 0);
  // Running statistics near the data's: mean within a fraction of a deviation, variance ×(0.5..1.5).
  const ms = Float32Array.from(randomData(C, 4, std * offset, loc));
  const vs = Float32Array.from(randomData(C, 5, 0.25, 1).map((u) => std * std * Math.min(1.5, Math.max(0.5, u))));
  const ref = Array.from(xs, (x, i) => {
    const c = channel(i);
    return (x - ms[c]) / Math.sqrt(vs[c] + eps) * gs[c] + bs[c];
  });
  const [x, g, b, m, v] = [tf.tensor(xs, shape), tf.tensor1d(gs), tf.tensor1d(bs), tf.tensor1d(ms), tf.tensor1d(vs)];
  const before = tf.memory().numTensors;
  const run = opsRun(() => {
    const r = batchNorm(x, {training: false, gamma: g, beta: b, mean: m, variance: v, epsilon: eps, dataFormat: fmt});
    const y = r.y.dataSync();
    // In inference the op returns the given statistics themselves (docs/ops.md), not copies.
    expect(r.mean).toBe(m);
    expect(r.variance).toBe(v);
    r.y.dispose();
    return y;
  });
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([x, g, b, m, v]);
  expect(compare('y', run.result, {shape: [n], data: ref}, 1e-4, 1e-4)).toEqual([]);
  expect(run.ops.filter((o) => o !== 'Reshape')).toEqual(expectedOps);
});
