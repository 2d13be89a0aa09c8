/** model.fit end to end with every layer on the cpu backend: loss goes down, nothing leaks. */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import {fitEachLayer, type FitResult} from '../support/layer_checks.js';

let results: FitResult[];
beforeAll(async () => {
  await tf.setBackend('cpu');
  results = await fitEachLayer(tf, norms);
}, 120000);

test.each(norms.layers ? ['batchNormalization', 'batchNormalization NCHW (axis 1)', 'batchNormalization center/scale false',
  'batchNormalization momentum null, unbiased', 'syncBatchNormalization (world of one)', 'layerNormalization',
  'groupNormalization', 'groupNormalization NCHW', 'instanceNormalization', 'inPlaceABN', 'rmsNormalization',
  'batchNormalization renorm', 'instanceNormalization trackRunningStats'] : [])('%s', (name) => {
  const r = results.find((x) => x.name === name)!;
  expect(r.losses.every(Number.isFinite)).toBe(true);
  expect(r.losses[r.losses.length - 1]).toBeLessThan(r.losses[0] * 0.8);
  expect(r.leaked).toBe(0);
});
