import type {KernelConfig} from '@tensorflow/tfjs-core';
import {NormsMoments, type NormsMomentsInputs} from '../../src/kernel_names.js';
import {moments, normLayout} from './norm_graph.js';
import {withEager} from './tf_exec.js';

/** Mean and biased variance per slot: `Sub` (x − shift), then `Sum` and `EuclideanNorm`. */
export const momentsConfig: KernelConfig = {
  kernelName: NormsMoments,
  backendName: 'tensorflow',
  kernelFunc: ({inputs, backend, attrs}) => withEager(backend, (e) => {
    const {x} = inputs as NormsMomentsInputs;
    const L = normLayout(x.shape, attrs!);
    const o = moments(e, x, L);
    return [o.mean, o.variance, o.shift, o.meanOffset].map((t) => e.outputHost(t, [L.v.slots]));
  }),
};
