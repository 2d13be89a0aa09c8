/** Forward values and gradients against PyTorch (float64) references, on the cpu backend. */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import {checkCase, type NormOps} from '../support/fixtures.js';
import {FIXTURE_FILES, loadFixtures} from '../support/load.js';
import {useTestBackend} from '../support/backend.js';

beforeAll(async () => {
  await useTestBackend(tf);
});

for (const file of FIXTURE_FILES) {
  const fixtures = loadFixtures(file);
  describe(`${file} fixtures (torch ${fixtures.torch})`, () => {
    test.each(fixtures.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      const before = tf.memory().numTensors;
      expect(checkCase(tf, norms as unknown as NormOps, c)).toEqual([]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
