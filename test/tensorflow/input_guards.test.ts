/** On tensorflow, statistics over zero elements get the same clear error as on cpu and webgl (no raw TF_Status). */
import {tf, useTensorflow} from './support/tfnode.js';
import {emptyAxesCases} from '../support/empty_axes_cases.js';
import {layerNorm} from '../../src/index.js';

beforeAll(async () => {
  await useTensorflow();
});

test.each(emptyAxesCases)('%s', (_, run, message) => {
  const x = tf.zeros(run.shape);
  expect(() => run.op(x)).toThrow(message);
  x.dispose();
});

test('an empty batch still gives an empty result', () => {
  const y = layerNorm(tf.zeros([0, 4]));
  expect(y.shape).toEqual([0, 4]);
  y.dispose();
});
