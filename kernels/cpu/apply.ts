import type {KernelBackend, KernelConfig} from '@tensorflow/tfjs-core';
import {NormsApply, type NormsApplyInputs} from '../../src/kernel_names.js';
import {applyParams, output, values} from './cpu_io.js';
import {apply} from './norm_loops.js';

export const applyConfig: KernelConfig = {
  kernelName: NormsApply,
  backendName: 'cpu',
  kernelFunc: ({inputs, backend, attrs}) => {
    const ins = inputs as NormsApplyInputs;
    const b = backend as KernelBackend;
    return output(b, apply(values(b, ins.x), applyParams(b, ins, attrs!)), ins.x.shape);
  },
};
