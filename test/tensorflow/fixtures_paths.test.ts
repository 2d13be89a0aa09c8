/**
 * The fixture suite again on the tensorflow backend's other paths: the portable ops only (no
 * FusedBatchNorm*, no _MklLayerNorm, always `x − shift` first), FusedBatchNorm* on channels-first
 * views too (what GPUs run; CPUs take the reductions there), and the two-kernel training
 * backward (NormsBackwardReduce then NormsBackwardApply) that SyncBatchNorm uses.
 */
import {tf, tfHandles, useTensorflow} from './support/tfnode.js';
import * as norms from '../../src/index.js';
import {backwardTrainingConfig} from '../../kernels/tensorflow/kernels.js';
import {nativePathFlags, type NativePaths} from '../../kernels/tensorflow/norm_graph.js';
import {setFlags} from '../../src/flags.js';
import {NormsBackwardTraining} from '../../src/kernel_names.js';
import {checkCase, type NormOps} from '../support/fixtures.js';
import {FIXTURE_FILES, loadFixtures} from '../support/load.js';

beforeAll(async () => {
  await useTensorflow();
});

const all = FIXTURE_FILES.flatMap((f) => loadFixtures(f).cases.map((c) => [`${f}: ${c.name}`, c] as const));

/** Every fixture case with `paths` switched on, checking tensors and TensorFlow handles. */
function withPaths(title: string, paths: Partial<NativePaths>): void {
  describe(title, () => {
    let restore = () => {};
    beforeAll(() => {
      restore = setFlags(nativePathFlags(paths));
    });
    afterAll(() => restore());

    test.each(all)('%s', (_n, c) => {
      const before = tf.memory().numTensors;
      const handles = tfHandles();
      expect(checkCase(tf as never, norms as unknown as NormOps, c)).toEqual([]);
      expect(tf.memory().numTensors).toBe(before);
      expect(tfHandles()).toBe(handles);
    });
  });
}

withPaths('portable ops only', {fusedBatchNorm: false, mklLayerNorm: false, rawInputs: false});
withPaths('FusedBatchNorm* on channels-first views too (the GPU choice)', {fusedBatchNormChannelsFirst: 'always'});

describe('split backward (NormsBackwardReduce + NormsBackwardApply)', () => {
  beforeAll(() => {
    tf.unregisterKernel(NormsBackwardTraining, 'tensorflow');
  });
  afterAll(() => {
    tf.registerKernel(backwardTrainingConfig);
  });

  const training = all.filter(([, c]) => c.op !== 'batchNorm' || c.opts.training);
  test.each(training)('%s', (_n, c) => {
    expect(tf.getKernel(NormsBackwardTraining, 'tensorflow')).toBeUndefined();
    expect(checkCase(tf as never, norms as unknown as NormOps, c)).toEqual([]);
  });
});
