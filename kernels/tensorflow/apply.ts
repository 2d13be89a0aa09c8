import type {KernelConfig} from '@tensorflow/tfjs-core';
import {NormsApply, type NormsApplyInputs} from '../../src/kernel_names.js';
import {affine, applyGiven, normLayout} from './norm_graph.js';
import {withEager} from './tf_exec.js';

/**
 * Normalization with given statistics: `FusedBatchNormV3` in inference mode for BatchNorm with
 * channels last (and channels first on GPUs), one multiply-add with per-(sample, channel)
 * coefficients otherwise.
 */
export const applyConfig: KernelConfig = {
  kernelName: NormsApply,
  backendName: 'tensorflow',
  kernelFunc: ({inputs, backend, attrs}) => withEager(backend, (e) => {
    const ins = inputs as NormsApplyInputs;
    const L = normLayout(ins.x.shape, attrs!);
    const p = affine(attrs!, ins.gamma, ins.beta);
    const y = applyGiven(e, ins.x, L, p, e.readInput(ins.mean), e.readInput(ins.variance),
      ins.shift ? e.readInput(ins.shift) : null);
    return e.output(y, ins.x.shape);
  }),
};
