import type {KernelConfig} from '@tensorflow/tfjs-core';
import {
  NormsBackwardApply, type NormsBackwardApplyAttrs, type NormsBackwardApplyInputs,
} from '../../src/kernel_names.js';
import {backwardInputs, optionalValues} from './backward_inputs.js';
import {affine, Backward, normLayout} from './norm_graph.js';
import {withEager} from './tf_exec.js';

/** `dx = dz·γ·r + x̂·k1 + k2` with per-slot `k1`, `k2` computed on the host. */
export const backwardApplyConfig: KernelConfig = {
  kernelName: NormsBackwardApply,
  backendName: 'tensorflow',
  kernelFunc: ({inputs, backend, attrs}) => withEager(backend, (e) => {
    const ins = inputs as NormsBackwardApplyInputs;
    const a = attrs as NormsBackwardApplyAttrs;
    const {source, bwd} = backwardInputs(e, ins);
    const L = normLayout(source.shape, attrs!);
    const dx = new Backward(e, L, affine(attrs!, ins.gamma, ins.beta), bwd).dx({
      training: a.training, count: a.count,
      slotSumDzGamma: optionalValues(e, ins.slotSumDzGamma),
      slotSumDzGammaXhat: optionalValues(e, ins.slotSumDzGammaXhat),
      dMean: optionalValues(e, ins.dMean), dVariance: optionalValues(e, ins.dVariance),
    });
    return e.output(dx, source.shape);
  }),
};
