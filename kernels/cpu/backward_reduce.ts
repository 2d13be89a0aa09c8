import type {KernelBackend, KernelConfig} from '@tensorflow/tfjs-core';
import {NormsBackwardReduce, type NormsBackwardReduceInputs} from '../../src/kernel_names.js';
import {applyParams, output, values} from './cpu_io.js';
import {backwardReduce} from './norm_loops.js';

export const backwardReduceConfig: KernelConfig = {
  kernelName: NormsBackwardReduce,
  backendName: 'cpu',
  kernelFunc: ({inputs, backend, attrs}) => {
    const ins = inputs as NormsBackwardReduceInputs;
    const b = backend as KernelBackend;
    const p = applyParams(b, ins, attrs!);
    const r = backwardReduce(values(b, ins.dy), values(b, ins.x), p);
    return [
      output(b, r.sumDz, [p.v.C]), output(b, r.sumDzXhat, [p.v.C]),
      output(b, r.slotSumDzGamma, [p.v.slots]), output(b, r.slotSumDzGammaXhat, [p.v.slots]),
    ];
  },
};
