import type {KernelConfig} from '@tensorflow/tfjs-core';
import {NormsNormalizeTraining, type NormsNormalizeTrainingInputs} from '../../src/kernel_names.js';
import {affine, normalizeTraining, normLayout} from './norm_graph.js';
import {withEager} from './tf_exec.js';

/**
 * Batch statistics and the apply: `FusedBatchNormV3` (training) for BatchNorm with channels
 * last (and channels first on GPUs); otherwise `Sum` and `EuclideanNorm`, then `_MklLayerNorm`
 * for LayerNorm or one multiply-add.
 */
export const normalizeTrainingConfig: KernelConfig = {
  kernelName: NormsNormalizeTraining,
  backendName: 'tensorflow',
  kernelFunc: ({inputs, backend, attrs}) => withEager(backend, (e) => {
    const {x, gamma, beta} = inputs as NormsNormalizeTrainingInputs;
    const L = normLayout(x.shape, attrs!);
    const {y, stats} = normalizeTraining(e, x, L, affine(attrs!, gamma, beta));
    return [
      e.output(y, x.shape),
      ...[stats.mean, stats.variance, stats.shift, stats.meanOffset].map((t) => e.outputHost(t, [L.v.slots])),
    ];
  }),
};
