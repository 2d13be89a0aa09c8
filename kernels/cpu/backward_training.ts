import type {KernelBackend, KernelConfig} from '@tensorflow/tfjs-core';
import {NormsBackwardTraining, type NormsBackwardTrainingAttrs, type NormsBackwardTrainingInputs} from '../../src/kernel_names.js';
import {backwardSource} from './backward_source.js';
import {applyParams, optionalValues, output, values} from './cpu_io.js';
import {backwardApply, backwardReduce} from './norm_loops.js';

/** Reduce and apply in one kernel, so the sums stay float64 between the two passes. */
export const backwardTrainingConfig: KernelConfig = {
  kernelName: NormsBackwardTraining,
  backendName: 'cpu',
  kernelFunc: ({inputs, backend, attrs}) => {
    const ins = inputs as NormsBackwardTrainingInputs;
    const b = backend as KernelBackend;
    const {source, info} = backwardSource(b, ins);
    const p = applyParams(b, {...ins, x: info}, attrs as NormsBackwardTrainingAttrs);
    const dy = values(b, ins.dy);
    const sums = backwardReduce(dy, source, p);
    const dx = backwardApply(source, {
      ...p, dy, training: true, count: p.v.count,
      slotSumDzGamma: sums.slotSumDzGamma, slotSumDzGammaXhat: sums.slotSumDzGammaXhat,
      dMean: optionalValues(b, ins.dMean), dVariance: optionalValues(b, ins.dVariance),
    });
    return [
      output(b, dx, info.shape),
      output(b, Float32Array.from(sums.sumDz), [p.v.C]),
      output(b, Float32Array.from(sums.sumDzXhat), [p.v.C]),
    ];
  },
};
