import type {KernelBackend, KernelConfig} from '@tensorflow/tfjs-core';
import {NormsBackwardApply, type NormsBackwardApplyAttrs, type NormsBackwardApplyInputs} from '../../src/kernel_names.js';
import {applyParams, optionalValues, output, values} from './cpu_io.js';
import {backwardApply} from './norm_loops.js';

export const backwardApplyConfig: KernelConfig = {
  kernelName: NormsBackwardApply,
  backendName: 'cpu',
  kernelFunc: ({inputs, backend, attrs}) => {
    const ins = inputs as NormsBackwardApplyInputs;
    const a = attrs as NormsBackwardApplyAttrs;
    const b = backend as KernelBackend;
    const dx = backwardApply(values(b, ins.x), {
      ...applyParams(b, ins, a),
      dy: optionalValues(b, ins.dy),
      training: a.training,
      count: a.count,
      slotSumDzGamma: optionalValues(b, ins.slotSumDzGamma),
      slotSumDzGammaXhat: optionalValues(b, ins.slotSumDzGammaXhat),
      dMean: optionalValues(b, ins.dMean),
      dVariance: optionalValues(b, ins.dVariance),
    });
    return output(b, dx, ins.x.shape);
  },
};
