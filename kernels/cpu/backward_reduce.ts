import type {KernelBackend, KernelConfig} from '@tensorflow/tfjs-core';
import {NormsBackwardReduce, type NormsBackwardReduceInputs} from '../../src/kernel_names.js';
import {backwardSource} from './backward_source.js';
import {applyParams, output, values} from './cpu_io.js';
import {backwardReduce} from './norm_loops.js';

export const backwardReduceConfig: KernelConfig = {
  kernelName: NormsBackwardReduce,
  backendName: 'cpu',
  kernelFunc: ({inputs, backend, attrs}) => {
    const ins = inputs as NormsBackwardReduceInputs;
    const b = backend as KernelBackend;
    const {source, info} = backwardSource(b, ins);
    const p = applyParams(b, {...ins, x: info}, attrs!);
    const r = backwardReduce(values(b, ins.dy), source, p);
    return [
      output(b, Float32Array.from(r.sumDz), [p.v.C]),
      output(b, Float32Array.from(r.sumDzXhat), [p.v.C]),
      output(b, Float32Array.from(r.slotSumDzGamma), [p.v.slots]),
      output(b, Float32Array.from(r.slotSumDzGammaXhat), [p.v.slots]),
    ];
  },
};
