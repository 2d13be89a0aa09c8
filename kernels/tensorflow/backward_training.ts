import type {KernelConfig} from '@tensorflow/tfjs-core';
import {NormsBackwardTraining, type NormsBackwardTrainingInputs} from '../../src/kernel_names.js';
import {backwardInputs, optionalValues} from './backward_inputs.js';
import {affine, Backward, fusedBackwardTraining, normLayout} from './norm_graph.js';
import {withEager, type H} from './tf_exec.js';

/**
 * The training backward in one kernel: `FusedBatchNormGradV3` (training mode) for BatchNorm
 * where `FusedBatchNormV3` runs the forward, else the reduce and apply steps back to back.
 */
export const backwardTrainingConfig: KernelConfig = {
  kernelName: NormsBackwardTraining,
  backendName: 'tensorflow',
  kernelFunc: ({inputs, backend, attrs}) => withEager(backend, (e) => {
    const ins = inputs as NormsBackwardTrainingInputs;
    const {source, bwd} = backwardInputs(e, ins);
    const L = normLayout(source.shape, attrs!);
    const p = affine(attrs!, ins.gamma, ins.beta);
    const dMean = optionalValues(e, ins.dMean);
    const dVariance = optionalValues(e, ins.dVariance);
    const {C} = L.v;
    const fused = fusedBackwardTraining(e, L, p, bwd, dMean, dVariance);
    if (fused !== null) {
      const out = (t: Float64Array | H) => (t instanceof Float64Array ? e.outputHost(t, [C]) : e.output(t, [C]));
      return [e.output(fused.dx, source.shape), out(fused.sumDz), out(fused.sumDzXhat)];
    }
    const bw = new Backward(e, L, p, bwd);
    const s = bw.reduce();
    const dx = bw.dx({
      training: true, count: L.v.count, slotSumDzGamma: s.slotSumDzGamma,
      slotSumDzGammaXhat: s.slotSumDzGammaXhat, dMean, dVariance,
    });
    return [e.output(dx, source.shape), e.outputHost(s.sumDz, [C]), e.outputHost(s.sumDzXhat, [C])];
  }),
};
