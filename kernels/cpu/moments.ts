import type {KernelBackend, KernelConfig} from '@tensorflow/tfjs-core';
import {NormsMoments, type NormsMomentsAttrs, type NormsMomentsInputs} from '../../src/kernel_names.js';
import {normView} from '../../src/norm_view.js';
import {output, values} from './cpu_io.js';
import {moments} from './norm_loops.js';

export const momentsConfig: KernelConfig = {
  kernelName: NormsMoments,
  backendName: 'cpu',
  kernelFunc: ({inputs, backend, attrs}) => {
    const {x} = inputs as NormsMomentsInputs;
    const b = backend as KernelBackend;
    const v = normView(x.shape, attrs as NormsMomentsAttrs);
    const m = moments(values(b, x), v);
    return [m.mean, m.variance, m.shift, m.meanOffset].map((t) => output(b, t, [v.slots]));
  },
};
