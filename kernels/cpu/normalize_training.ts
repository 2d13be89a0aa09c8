import type {KernelBackend, KernelConfig} from '@tensorflow/tfjs-core';
import {NormsNormalizeTraining, type NormsNormalizeTrainingAttrs, type NormsNormalizeTrainingInputs} from '../../src/kernel_names.js';
import {normView} from '../../src/norm_view.js';
import {optionalValues, output, values} from './cpu_io.js';
import {apply, moments} from './norm_loops.js';

export const normalizeTrainingConfig: KernelConfig = {
  kernelName: NormsNormalizeTraining,
  backendName: 'cpu',
  kernelFunc: ({inputs, backend, attrs}) => {
    const {x, gamma, beta} = inputs as NormsNormalizeTrainingInputs;
    const b = backend as KernelBackend;
    const a = attrs as NormsNormalizeTrainingAttrs;
    const v = normView(x.shape, a);
    const xs = values(b, x);
    const m = moments(xs, v);
    const y = apply(xs, {
      v, mean: m.exactMean, variance: m.variance, gamma: optionalValues(b, gamma), beta: optionalValues(b, beta),
      epsilon: a.epsilon, activation: a.activation, alpha: a.alpha,
    });
    return [
      output(b, y, x.shape),
      ...[m.mean, m.variance, m.shift, m.meanOffset].map((t) => output(b, t, [v.slots])),
    ];
  },
};
