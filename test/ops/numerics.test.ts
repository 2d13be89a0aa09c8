/**
 * Data far from zero (1000 + 0.01 * noise) and larger reductions, against a float64
 * reference: statistics must not come from E[x²] - E[x]².
 */
import * as tf from '@tensorflow/tfjs';
import {batchNorm, groupNorm, instanceNorm, layerNorm} from '../../src/index.js';
import {reference, type RefSpec} from '../support/reference.js';
import {useTestBackend} from '../support/backend.js';

beforeAll(async () => {
  await useTestBackend(tf);
});

function maxRelErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let ss = 0;
  for (let i = 0; i < expected.length; i++) ss += expected[i] * expected[i];
  const scale = Math.sqrt(ss / expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (Math.abs(expected[i]) + scale));
  }
  return worst;
}

// NHWC [4, 6, 5, 8] or NCHW [4, 8, 6, 5].
const [N, H, W, C] = [4, 6, 5, 8];
const NHWC = [N, H, W, C];
const NCHW = [N, C, H, W];
const S = H * W;
const nhwc = (i: number) => ({n: Math.floor(i / (S * C)), c: i % C});
const nchw = (i: number) => ({n: Math.floor(i / (S * C)), c: Math.floor(i / S) % C});

type Case = [string, number[], (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {y: tf.Tensor; mean?: tf.Tensor; variance?: tf.Tensor}, RefSpec];
const eps = 1e-5;
const cases: Case[] = [
  ['batchNorm NHWC', NHWC, (x, g, b) => batchNorm(x, {training: true, gamma: g, beta: b}),
    {slotOf: (i) => nhwc(i).c, channelOf: (i) => nhwc(i).c, slots: C, epsilon: eps}],
  ['batchNorm NCHW', NCHW, (x, g, b) => batchNorm(x, {training: true, gamma: g, beta: b, dataFormat: 'NCHW'}),
    {slotOf: (i) => nchw(i).c, channelOf: (i) => nchw(i).c, slots: C, epsilon: eps}],
  ['groupNorm NHWC', NHWC, (x, g, b) => ({y: groupNorm(x, {groups: 2, gamma: g, beta: b})}),
    {slotOf: (i) => nhwc(i).n * 2 + Math.floor(nhwc(i).c / 4), channelOf: (i) => nhwc(i).c, slots: N * 2, epsilon: eps}],
  ['groupNorm NCHW', NCHW, (x, g, b) => ({y: groupNorm(x, {groups: 4, gamma: g, beta: b, dataFormat: 'NCHW'})}),
    {slotOf: (i) => nchw(i).n * 4 + Math.floor(nchw(i).c / 2), channelOf: (i) => nchw(i).c, slots: N * 4, epsilon: eps}],
  ['instanceNorm NHWC', NHWC, (x, g, b) => ({y: instanceNorm(x, {gamma: g, beta: b})}),
    {slotOf: (i) => nhwc(i).n * C + nhwc(i).c, channelOf: (i) => nhwc(i).c, slots: N * C, epsilon: eps}],
  ['instanceNorm NCHW', NCHW, (x, g, b) => ({y: instanceNorm(x, {gamma: g, beta: b, dataFormat: 'NCHW'})}),
    {slotOf: (i) => nchw(i).n * C + nchw(i).c, channelOf: (i) => nchw(i).c, slots: N * C, epsilon: eps}],
  ['layerNorm', NHWC, (x, g, b) => ({y: layerNorm(x, {gamma: g, beta: b})}),
    {slotOf: (i) => Math.floor(i / C), channelOf: (i) => i % C, slots: N * S, epsilon: eps}],
];

describe.each([
  ['1000 + 0.01 * noise', 1000, 0.01],
  ['-5e4 + 3 * noise', -5e4, 3],
  ['ordinary data', 0.5, 2],
])('%s', (_label, offset, spread) => {
  test.each(cases)('%s: forward and gradient within 1e-4 of float64', (_name, shape, run, spec) => {
    const x = tf.tidy(() => tf.add(offset, tf.mul(spread, tf.randomNormal(shape, 0, 1, 'float32', 42))));
    const dy = tf.randomNormal(shape, 0, 1, 'float32', 43);
    const g = tf.randomNormal([C], 1, 0.5, 'float32', 44);
    const b = tf.randomNormal([C], 0, 1, 'float32', 45);
    const ref = reference(x.dataSync(), dy.dataSync(), g.dataSync(), b.dataSync(), spec);
    const out = run(x, g, b);
    expect(maxRelErr(out.y.dataSync(), ref.y)).toBeLessThan(1e-4);
    if (out.mean) {
      expect(maxRelErr(out.mean.dataSync(), ref.mean)).toBeLessThan(1e-6);
      expect(maxRelErr(out.variance!.dataSync(), ref.variance)).toBeLessThan(1e-4);
    }
    const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(run(xx, g, b).y, dy)))(x);
    expect(maxRelErr(dx.dataSync(), ref.dx)).toBeLessThan(1e-4);
    tf.dispose([x, dy, g, b, dx, out.y, out.mean, out.variance].filter((t): t is tf.Tensor => t !== undefined));
  });
});

test('a reduction over 2^20 elements per channel stays exact', () => {
  const x = tf.tidy(() => tf.add(100, tf.randomNormal([1 << 19, 2], 0, 1, 'float32', 9)));
  const {mean, variance, y} = batchNorm(x, {training: true});
  const ref = reference(x.dataSync(), new Float32Array(x.size), [1, 1], [0, 0],
      {slotOf: (i) => i % 2, channelOf: (i) => i % 2, slots: 2, epsilon: 1e-5});
  expect(maxRelErr(mean.dataSync(), ref.mean)).toBeLessThan(1e-7);
  expect(maxRelErr(variance.dataSync(), ref.variance)).toBeLessThan(1e-6);
  expect(maxRelErr(y.dataSync(), ref.y)).toBeLessThan(1e-5);
  tf.dispose([x, mean, variance, y]);
});
