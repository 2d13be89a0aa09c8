/** model.fit end to end with every layer on the cpu backend: loss goes down, nothing leaks. */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import {fitEachLayer, type FitResult} from '../support/layer_checks.js';
import {useTestBackend} from '../support/backend.js';

let results: FitResult[];
beforeAll(async () => {
  await useTestBackend(tf);
  results = await fitEachLayer(tf, norms);
}, 600_000);

test.each(norms.layers ? ['batchNormalization', 'batchNormalization NCHW (axis 1)', 'batchNormalization center/scale false',
  'batchNormalization momentum null, unbiased', 'syncBatchNormalization (world of one)', 'layerNormalization',
  'groupNormalization', 'groupNormalization NCHW', 'instanceNormalization', 'inPlaceABN'] : [])('%s', (name) => {
  const r = results.find((x) => x.name === name)!;
  expect(r.losses.every(Number.isFinite)).toBe(true);
  expect(r.losses[r.losses.length - 1]).toBeLessThan(r.losses[0] * 0.8);
  expect(r.leaked).toBe(0);
});
