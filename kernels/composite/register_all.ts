/**
 * The composite kernel table: every kernel of the contract built from tfjs-core's kernels, for
 * any backend. Not registered on import: `install.ts` registers it for a backend the first time
 * an op runs there without fused kernels of ours (or with `TFJS_NORMS_COMPOSITE` set).
 */
import type {KernelBackend, KernelConfig, KernelFunc, TensorInfo} from '@tensorflow/tfjs-core';
import {
  NormsApply, NormsBackwardApply, NormsBackwardReduce, NormsBackwardTraining, NormsMoments, NormsNormalizeTraining,
} from '../../src/kernel_names.js';
import {
  applyComposite, backwardApplyComposite, backwardReduceComposite, backwardTrainingComposite, momentsComposite,
  normalizeTrainingComposite,
} from './norm_composite.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = (backend: KernelBackend, backendName: string, inputs: any, attrs: any) => TensorInfo | TensorInfo[];

const BODIES: Record<string, Body> = {
  [NormsMoments]: momentsComposite,
  [NormsApply]: applyComposite,
  [NormsNormalizeTraining]: normalizeTrainingComposite,
  [NormsBackwardReduce]: backwardReduceComposite,
  [NormsBackwardApply]: backwardApplyComposite,
  [NormsBackwardTraining]: backwardTrainingComposite,
};

const compositeFuncs = new WeakSet<KernelFunc>();

/** The composite kernels' configs for `backendName` (a new set per call). */
export function compositeKernelConfigs(backendName: string): KernelConfig[] {
  return Object.entries(BODIES).map(([kernelName, body]) => {
    const kernelFunc: KernelFunc = ({inputs, backend, attrs}) =>
      body(backend as KernelBackend, backendName, inputs, attrs);
    compositeFuncs.add(kernelFunc);
    return {kernelName, backendName, kernelFunc};
  });
}

/** Whether a registered kernel is one of the composite kernels (or an alias of one). */
export function isCompositeKernel(config: KernelConfig | undefined): boolean {
  return config !== undefined && compositeFuncs.has(config.kernelFunc);
}
