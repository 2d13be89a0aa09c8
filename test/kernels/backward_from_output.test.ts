/**
 * The backward kernels given the forward output `y` instead of `x` (In-Place ABN) agree with
 * the same kernels given `x`, for every invertible activation and both layouts.
 */
import * as tf from '@tensorflow/tfjs';
import '../../src/index.js';
import {
  NormsApply, NormsBackwardApply, NormsBackwardReduce, NormsBackwardTraining, NormsNormalizeTraining,
  type NormApplyAttrs,
} from '../../src/kernel_names.js';
import {runKernel} from '../../src/run_kernel.js';
import {useTestBackend} from '../support/backend.js';

beforeAll(async () => {
  await useTestBackend(tf);
});

const run = (name: string, inputs: tf.NamedTensorMap, attrs: object) => runKernel(name, inputs, attrs);

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

describe.each([
  ['linear', 0], ['leakyRelu', 0.1], ['elu', 1], ['elu', 0.5],
] as const)('%s (alpha %s)', (activation, alpha) => {
  test.each([['NCS', [3, 4, 5]], ['NSC', [3, 5, 4]]] as const)('%s', (layout, shape) => tf.tidy(() => {
    const attrs: NormApplyAttrs = {layout, batchAxes: 1, channelAxes: 1, groups: 4, perSample: false,
      epsilon: 1e-3, activation, alpha};
    const x = tf.randomNormal([...shape], 0, 2, 'float32', 1);
    const gamma = tf.tensor1d([1.5, -0.7, 0.3, 2]);
    const beta = tf.tensor1d([0.1, -0.2, 0.3, 0]);
    const dy = tf.randomNormal([...shape], 0, 1, 'float32', 2);
    const [y, , variance, shift, mean] = run(NormsNormalizeTraining, {x, gamma, beta}, attrs) as tf.Tensor[];
    const common = {mean, variance, gamma, beta, dy};
    const fromX = run(NormsBackwardReduce, {...common, x, shift}, attrs) as tf.Tensor[];
    const fromY = run(NormsBackwardReduce, {...common, y}, attrs) as tf.Tensor[];
    fromX.forEach((t, i) => expect(maxDiff(t, fromY[i])).toBeLessThan(2e-4));
    const applyAttrs = {...attrs, training: true, count: 15};
    const sums = {slotSumDzGamma: fromX[2], slotSumDzGammaXhat: fromX[3]};
    const dxX = run(NormsBackwardApply, {...common, ...sums, x, shift}, applyAttrs) as tf.Tensor;
    const dxY = run(NormsBackwardApply, {...common, ...sums, y}, applyAttrs) as tf.Tensor;
    expect(maxDiff(dxX, dxY)).toBeLessThan(2e-4);
    const [dxFused] = run(NormsBackwardTraining, {...common, y}, attrs) as tf.Tensor[];
    expect(maxDiff(dxX, dxFused)).toBeLessThan(2e-4);
    // And y itself is what the apply kernel gives with the exact mean.
    expect(maxDiff(y, run(NormsApply, {x, mean, shift, variance, gamma, beta}, attrs) as tf.Tensor)).toBeLessThan(1e-5);
  }));
});
