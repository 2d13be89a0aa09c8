/**
 * Inputs that used to slip through: strings (NaN results), statistics over zero elements (a raw
 * TensorFlow error on one backend, an empty result on another) and `inPlace` on a variable
 * (which disposed the model's weight). The tensorflow suite repeats the empty-axes cases.
 */
import * as tf from '@tensorflow/tfjs';
import {batchNorm, groupNorm, inplaceABN, instanceNorm, layerNorm, sparseBatchNorm, syncBatchNorm} from '../../src/index.js';
import {emptyAxesCases} from '../support/empty_axes_cases.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

type Input = tf.Tensor | string[][][];
const ops: Array<[string, (x: Input) => unknown]> = [
  ['batchNorm', (x) => batchNorm(x as tf.Tensor, {training: true})],
  ['syncBatchNorm', (x) => syncBatchNorm(x as tf.Tensor, {})],
  ['layerNorm', (x) => layerNorm(x as tf.Tensor)],
  ['groupNorm', (x) => groupNorm(x as tf.Tensor, {groups: 1})],
  ['instanceNorm', (x) => instanceNorm(x as tf.Tensor)],
  ['inplaceABN', (x) => inplaceABN(x as tf.Tensor, {training: true})],
];
const strings = [[['a', 'b'], ['c', 'd']], [['e', 'f'], ['g', 'h']]];

describe.each(ops)('%s refuses strings', (name, run) => {
  test('a string tensor', () => {
    const x = tf.tensor(strings);
    const before = tf.memory().numTensors;
    expect(() => run(x)).toThrow(new RegExp(`^${name}: 'x' must be a float32 tensor, got string$`));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  test('nested arrays of strings', () => {
    const before = tf.memory().numTensors;
    expect(() => run(strings)).toThrow(new RegExp(`^${name}: 'x' must be numbers, got strings$`));
    expect(tf.memory().numTensors).toBe(before);
  });
});

test('sparseBatchNorm refuses string values', () => {
  const indices = tf.tensor2d([[0, 1]], [1, 2], 'int32');
  const values = tf.tensor([['a'], ['b']]) as tf.Tensor2D;
  expect(() => sparseBatchNorm({indices, values, shape: [2, 1]}, {training: true}))
      .toThrow(/^sparseBatchNorm: 'values' must be a float32 tensor, got string$/);
  tf.dispose([indices, values]);
});

test('nested arrays of numbers still work', () => {
  const y = layerNorm([[1, 2, 3], [4, 5, 6]]);
  expect(Array.from(y.dataSync()).map((v) => Math.round(v * 1e3) / 1e3)).toEqual([-1.225, 0, 1.225, -1.225, 0, 1.225]);
  y.dispose();
});

describe('statistics over zero elements are refused', () => {
  test.each(emptyAxesCases)('%s', (_, run, message) => {
    const x = tf.zeros(run.shape);
    const before = tf.memory().numTensors;
    expect(() => run.op(x)).toThrow(message);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  test('an empty batch still gives an empty result', () => {
    for (const y of [layerNorm(tf.zeros([0, 4])), groupNorm(tf.zeros([0, 2, 4]), {groups: 2}),
      batchNorm(tf.zeros([2, 4, 0]), {training: true}).y]) {
      expect(y.size).toBe(0);
      y.dispose();
    }
  });
});

describe('inplaceABN with inPlace: true on a tf.Variable', () => {
  test('is refused and the variable stays usable', () => {
    const v = tf.variable(tf.randomNormal([4, 3], 0, 1, 'float32', 3), true, 'conv_out');
    const before = tf.memory().numTensors;
    expect(() => inplaceABN(v, {training: true, inPlace: true}))
        .toThrow(/^inplaceABN: 'inPlace: true' cannot release 'x': it is the tf.Variable 'conv_out'/);
    expect(tf.memory().numTensors).toBe(before);
    expect(v.isDisposed).toBe(false);
    expect(v.dataSync()).toHaveLength(12);
    // Without inPlace a variable is an ordinary input.
    const r = inplaceABN(v, {training: true});
    expect(v.isDisposed).toBe(false);
    tf.dispose([r.y, r.mean, r.variance, v]);
  });
});
