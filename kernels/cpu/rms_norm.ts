/** RMSNorm's cpu kernels: the loops of rms_norm_loops.ts on the backend's arrays. */
import type {KernelBackend, KernelConfig} from '@tensorflow/tfjs-core';
import {
  NormsRMSNorm, type NormsRMSNormAttrs, NormsRMSNormGrad, type NormsRMSNormGradInputs, type NormsRMSNormInputs,
} from '../../src/kernel_names.js';
import {rmsView} from '../../src/norm_view.js';
import {output, values} from './cpu_io.js';
import {rmsNormBackward, rmsNormForward} from './rms_norm_loops.js';

export const rmsNormConfig: KernelConfig = {
  kernelName: NormsRMSNorm,
  backendName: 'cpu',
  kernelFunc: ({inputs, backend, attrs}) => {
    const {x, gamma} = inputs as NormsRMSNormInputs;
    const b = backend as KernelBackend;
    const a = attrs as NormsRMSNormAttrs;
    const {rows, D} = rmsView(x.shape, a.axisCount);
    const r = rmsNormForward(values(b, x), values(b, gamma), rows, D, a.epsilon);
    return [output(b, r.y, x.shape), output(b, r.invRms, [rows])];
  },
};

export const rmsNormGradConfig: KernelConfig = {
  kernelName: NormsRMSNormGrad,
  backendName: 'cpu',
  kernelFunc: ({inputs, backend, attrs}) => {
    const {dy, x, invRms, gamma} = inputs as NormsRMSNormGradInputs;
    const b = backend as KernelBackend;
    const {rows, D} = rmsView(x.shape, (attrs as NormsRMSNormAttrs).axisCount);
    const r = rmsNormBackward(values(b, dy), values(b, x), values(b, invRms), values(b, gamma), rows, D);
    return [output(b, r.dx, x.shape), output(b, r.dgamma, gamma.shape)];
  },
};
