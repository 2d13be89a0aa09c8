/** Forward values and gradients against PyTorch (float64) references (RMSNorm's too), on the tensorflow backend. */
import {tf, tfHandles, useTensorflow} from './support/tfnode.js';
import * as norms from '../../src/index.js';
import {checkCase, type NormOps} from '../support/fixtures.js';
import {FIXTURE_FILES, loadFixtures} from '../support/load.js';

beforeAll(async () => {
  await useTensorflow();
});

for (const file of [...FIXTURE_FILES, 'rms_norm']) {
  const fixtures = loadFixtures(file);
  describe(`${file} fixtures (torch ${fixtures.torch}), tensorflow backend`, () => {
    test.each(fixtures.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      expect(tf.getBackend()).toBe('tensorflow');
      const before = tf.memory().numTensors;
      const handles = tfHandles();
      expect(checkCase(tf as never, norms as unknown as NormOps, c)).toEqual([]);
      expect(tf.memory().numTensors).toBe(before);
      expect(tfHandles()).toBe(handles);
    });
  });
}
