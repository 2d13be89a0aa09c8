/**
 * The fixture suite again with the fused `NormsBackwardTraining` kernel unregistered, so the
 * two-kernel backward (reduce, then apply) that webgl and SyncBatchNorm use is checked on cpu.
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import {backwardTrainingConfig} from '../../kernels/cpu/backward_training.js';
import {NormsBackwardTraining} from '../../src/kernel_names.js';
import {checkCase, type NormOps} from '../support/fixtures.js';
import {FIXTURE_FILES, loadFixtures} from '../support/load.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  tf.unregisterKernel(NormsBackwardTraining, 'cpu');
});

afterAll(() => {
  tf.registerKernel(backwardTrainingConfig);
});

for (const file of FIXTURE_FILES) {
  const fixtures = loadFixtures(file);
  const training = fixtures.cases.filter((c) => c.op !== 'batchNorm' || c.opts.training);
  describe(`${file} fixtures, split backward`, () => {
    test.each(training.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      expect(tf.getKernel(NormsBackwardTraining, 'cpu')).toBeUndefined();
      expect(checkCase(tf, norms as unknown as NormOps, c)).toEqual([]);
    });
  });
}
