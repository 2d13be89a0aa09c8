/** Bad input gets a clear error naming the argument, and throwing leaks nothing. */
import * as tf from '@tensorflow/tfjs';
import {batchNorm, groupNorm, instanceNorm, layerNorm} from '../../src/index.js';
import {useTestBackend} from '../support/backend.js';

beforeAll(async () => {
  await useTestBackend(tf);
});

const x4 = () => tf.ones([2, 3, 4, 4]);

const cases: Array<[string, () => unknown, RegExp]> = [
  ['rank 1', () => batchNorm(tf.ones([4]), {training: true}), /batchNorm: 'x' must have rank 2 to 5, got shape \[4\]/],
  ['rank 6', () => groupNorm(tf.ones([1, 2, 1, 1, 1, 2]), {groups: 1}), /groupNorm: 'x' must have rank 2 to 5/],
  ['instanceNorm rank 2', () => instanceNorm(tf.ones([2, 3])), /instanceNorm: 'x' must have rank 3 to 5/],
  ['int32 x', () => batchNorm(tf.ones([2, 3], 'int32'), {training: true}), /batchNorm: 'x' must be a float32 tensor, got int32/],
  ['bool x', () => layerNorm(tf.ones([2, 3], 'bool')), /layerNorm: 'x' must be a float32 tensor, got bool/],
  ['gamma shape', () => batchNorm(x4(), {training: true, dataFormat: 'NCHW', gamma: tf.ones([4])}),
    /batchNorm: 'gamma' must have shape \[3\] \(one value per channel, channel axis 1\), got \[4\]/],
  ['beta shape', () => groupNorm(x4(), {groups: 1, beta: tf.ones([3])}), /groupNorm: 'beta' must have shape \[4\]/],
  ['gamma dtype', () => instanceNorm(x4(), {gamma: tf.ones([4], 'int32')}), /instanceNorm: 'gamma' must be a float32 tensor/],
  ['mean missing', () => batchNorm(x4(), {training: false}), /batchNorm: 'mean' and 'variance' are required when 'training' is false/],
  ['mean shape', () => batchNorm(x4(), {training: false, mean: tf.zeros([3]), variance: tf.ones([4])}),
    /batchNorm: 'mean' must have shape \[4\]/],
  ['variance shape', () => batchNorm(x4(), {training: false, mean: tf.zeros([4]), variance: tf.ones([2, 2]) as unknown as tf.Tensor1D}),
    /batchNorm: 'variance' must have shape \[4\]/],
  ['training missing', () => batchNorm(x4(), {} as never), /batchNorm: 'training' must be true or false/],
  ['no options', () => batchNorm(x4(), undefined as never), /batchNorm: options with 'training' are required/],
  ['groups not dividing', () => groupNorm(x4(), {groups: 3}), /groupNorm: 'groups' \(3\) must divide the number of channels \(4\)/],
  ['groups zero', () => groupNorm(x4(), {groups: 0}), /groupNorm: 'groups' must be a positive integer, got 0/],
  ['groups fractional', () => groupNorm(x4(), {groups: 1.5}), /groupNorm: 'groups' must be a positive integer, got 1.5/],
  ['groups missing', () => groupNorm(x4(), {} as never), /groupNorm: 'groups' must be a positive integer, got undefined/],
  ['axes not trailing', () => layerNorm(x4(), {axes: [1, 2]}), /layerNorm: 'axes' must be the trailing axes of the input \(rank 4\), got \[1,2\]/],
  ['axes gap', () => layerNorm(x4(), {axes: [1, 3]}), /layerNorm: 'axes' must be the trailing axes/],
  ['axes out of range', () => layerNorm(x4(), {axes: 4}), /layerNorm: 'axes' entries must be integers in \[-4, 3\], got 4/],
  ['axes duplicate', () => layerNorm(x4(), {axes: [-1, 3]}), /layerNorm: 'axes' has duplicates/],
  ['axes empty', () => layerNorm(x4(), {axes: []}), /layerNorm: 'axes' must name at least one axis/],
  ['layerNorm gamma shape', () => layerNorm(x4(), {axes: [-2, -1], gamma: tf.ones([4])}),
    /layerNorm: 'gamma' must have shape \[4,4\] \(the shape of the normalized axes\), got \[4\]/],
  ['activation', () => batchNorm(x4(), {training: true, activation: 'gelu' as never}),
    /batchNorm: 'activation' must be one of 'linear', 'relu', 'leakyRelu', 'elu', got "gelu"/],
  ['alpha', () => groupNorm(x4(), {groups: 2, activation: 'elu', alpha: NaN}), /groupNorm: 'alpha' must be a finite number/],
  ['dataFormat', () => instanceNorm(x4(), {dataFormat: 'NWC' as never}), /instanceNorm: 'dataFormat' must be 'NHWC' or 'NCHW', got "NWC"/],
  ['epsilon', () => batchNorm(x4(), {training: true, epsilon: -1}), /batchNorm: 'epsilon' must be a finite number >= 0, got -1/],
  ['unknown option', () => batchNorm(x4(), {training: true, eps: 1e-3} as never), /batchNorm: unknown option 'eps'/],
  ['single value per channel', () => batchNorm(tf.ones([1, 3]), {training: true}),
    /batchNorm: expected more than 1 value per channel when training, got input of shape \[1,3\]/],
  ['single value per channel NCHW', () => batchNorm(tf.ones([1, 3, 1, 1]), {training: true, dataFormat: 'NCHW'}),
    /batchNorm: expected more than 1 value per channel when training/],
  ['single spatial element', () => instanceNorm(tf.ones([2, 1, 1, 3])),
    /instanceNorm: expected more than 1 spatial element, got input of shape \[2,1,1,3\]/],
  ['disposed x', () => { const t = tf.ones([2, 3]); t.dispose(); return layerNorm(t); }, /layerNorm: 'x' is disposed/],
];

describe('argument errors', () => {
  test.each(cases)('%s', (_name, fn, message) => {
    const before = tf.memory().numTensors;
    expect(() => tf.tidy(() => { fn(); })).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('a throwing op leaks nothing outside tidy either', () => {
    const x = tf.ones([2, 3]);
    const gamma = tf.ones([3]);
    const before = tf.memory().numTensors;
    expect(() => batchNorm(x, {training: false, gamma, mean: tf.zeros([3]), variance: tf.ones([5]) as tf.Tensor1D}))
        .toThrow(/'variance' must have shape \[3\]/);
    // mean and variance above were created by the caller: two tensors more, nothing else.
    expect(tf.memory().numTensors).toBe(before + 2);
  });

  test('inference with a single value per channel is allowed', () => {
    const {y, mean, variance} = batchNorm(tf.tensor2d([[1, 2, 3]]),
        {training: false, mean: tf.tensor1d([1, 1, 1]), variance: tf.tensor1d([1, 1, 1])});
    expect(Array.from(y.dataSync()).map((v) => Math.round(v * 1e4) / 1e4)).toEqual([0, 1, 2]);
    tf.dispose([y, mean, variance]);
  });
});
