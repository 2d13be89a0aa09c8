/**
 * The fixture suite again with the fused `NormsBackwardTraining` kernel unregistered, so the
 * two-kernel backward (reduce, then apply) that SyncBatchNorm uses is checked on the suite's backend.
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import {prepareBackend} from '../../kernels/composite/install.js';
import {NormsBackwardTraining} from '../../src/kernel_names.js';
import {checkCase, type NormOps} from '../support/fixtures.js';
import {FIXTURE_FILES, loadFixtures} from '../support/load.js';
import {useTestBackend} from '../support/backend.js';

let backend = '';
let fused: tf.KernelConfig | undefined;

beforeAll(async () => {
  backend = await useTestBackend(tf);
  prepareBackend(backend);
  fused = tf.getKernel(NormsBackwardTraining, backend);
  expect(fused).toBeDefined();
  tf.unregisterKernel(NormsBackwardTraining, backend);
});

afterAll(() => {
  if (fused) tf.registerKernel(fused);
});

for (const file of FIXTURE_FILES) {
  const fixtures = loadFixtures(file);
  const training = fixtures.cases.filter((c) => c.op !== 'batchNorm' || c.opts.training);
  describe(`${file} fixtures, split backward`, () => {
    test.each(training.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      expect(tf.getKernel(NormsBackwardTraining, backend)).toBeUndefined();
      expect(checkCase(tf, norms as unknown as NormOps, c)).toEqual([]);
    });
  });
}
