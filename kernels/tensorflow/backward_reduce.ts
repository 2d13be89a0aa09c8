import type {KernelConfig} from '@tensorflow/tfjs-core';
import {NormsBackwardReduce, type NormsBackwardReduceInputs} from '../../src/kernel_names.js';
import {backwardInputs} from './backward_inputs.js';
import {affine, Backward, normLayout} from './norm_graph.js';
import {withEager} from './tf_exec.js';

/** Σdz, Σdz·x̂ per channel and Σdz·γ, Σdz·γ·x̂ per slot: `Mul` and `Sum`s over the spatial axis. */
export const backwardReduceConfig: KernelConfig = {
  kernelName: NormsBackwardReduce,
  backendName: 'tensorflow',
  kernelFunc: ({inputs, backend, attrs}) => withEager(backend, (e) => {
    const ins = inputs as NormsBackwardReduceInputs;
    const {source, bwd} = backwardInputs(e, ins);
    const L = normLayout(source.shape, attrs!);
    const s = new Backward(e, L, affine(attrs!, ins.gamma, ins.beta), bwd).reduce();
    const {C, slots} = L.v;
    return [
      e.outputHost(s.sumDz, [C]), e.outputHost(s.sumDzXhat, [C]),
      e.outputHost(s.slotSumDzGamma, [slots]), e.outputHost(s.slotSumDzGammaXhat, [slots]),
    ];
  }),
};
