import type {KernelBackend, KernelConfig} from '@tensorflow/tfjs-core';
import {NormsBackwardApply, type NormsBackwardApplyAttrs, type NormsBackwardApplyInputs} from '../../src/kernel_names.js';
import {backwardSource} from './backward_source.js';
import {applyParams, optionalValues, output} from './cpu_io.js';
import {backwardApply} from './norm_loops.js';

export const backwardApplyConfig: KernelConfig = {
  kernelName: NormsBackwardApply,
  backendName: 'cpu',
  kernelFunc: ({inputs, backend, attrs}) => {
    const ins = inputs as NormsBackwardApplyInputs;
    const a = attrs as NormsBackwardApplyAttrs;
    const b = backend as KernelBackend;
    const {source, info} = backwardSource(b, ins);
    const dx = backwardApply(source, {
      ...applyParams(b, {...ins, x: info}, a),
      dy: optionalValues(b, ins.dy),
      training: a.training,
      count: a.count,
      slotSumDzGamma: optionalValues(b, ins.slotSumDzGamma),
      slotSumDzGammaXhat: optionalValues(b, ins.slotSumDzGammaXhat),
      dMean: optionalValues(b, ins.dMean),
      dVariance: optionalValues(b, ins.dVariance),
    });
    return output(b, dx, info.shape);
  },
};
