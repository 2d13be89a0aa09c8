/**
 * The ops the browser suites' leak checks run (forward, tf.grads, tf.variableGrads): name, shape
 * of x, the op returning every tensor it made, and the channel axis (gamma and beta's length).
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';

type T = tf.Tensor;
export type LeakRun = [name: string, shape: number[], run: (x: T, g: T, b: T) => T[], channelAxis: number];

export const LEAK_RUNS: LeakRun[] = [
  ['batchNorm training NCHW', [4, 6, 5, 4], (x, g, b) => { const r = norms.batchNorm(x, {training: true, gamma: g, beta: b, dataFormat: 'NCHW', activation: 'relu'}); return [r.y, r.mean, r.variance]; }, 1],
  ['batchNorm training NHWC', [4, 5, 4, 6], (x, g, b) => { const r = norms.batchNorm(x, {training: true, gamma: g, beta: b, activation: 'elu'}); return [r.y, r.mean, r.variance]; }, 3],
  ['batchNorm inference', [4, 6], (x, g, b) => { const r = norms.batchNorm(x, {training: false, gamma: g, beta: b, mean: tf.zeros([6]) as tf.Tensor1D, variance: tf.ones([6]) as tf.Tensor1D}); return [r.y, r.mean, r.variance]; }, 1],
  ['layerNorm', [3, 5, 8], (x, g, b) => [norms.layerNorm(x, {gamma: g, beta: b})], 2],
  ['groupNorm', [2, 6, 3, 4], (x, g, b) => [norms.groupNorm(x, {groups: 3, gamma: g, beta: b, dataFormat: 'NCHW', activation: 'leakyRelu'})], 1],
  ['instanceNorm', [2, 3, 4, 6], (x, g, b) => [norms.instanceNorm(x, {gamma: g, beta: b})], 3],
];
