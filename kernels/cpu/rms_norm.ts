/** RMSNorm's kernels on typed arrays (cpu and wasm): the loops of rms_norm_loops.ts through a `KernelIO`. */
import type {TensorInfo} from '@tensorflow/tfjs-core';
import type {NormsRMSNormAttrs, NormsRMSNormGradInputs, NormsRMSNormInputs} from '../../src/kernel_names.js';
import {rmsView} from '../../src/norm_view.js';
import type {KernelIO} from './kernel_io.js';
import {JS_LOOPS} from './loops.js';

export function rmsNorm(io: KernelIO, {x, gamma}: NormsRMSNormInputs, a: NormsRMSNormAttrs): TensorInfo[] {
  const {rows, D} = rmsView(x.shape, a.axisCount);
  const out = io.allocate([x.shape, [rows]]);
  (io.loops ?? JS_LOOPS).rmsNormForward(io.read(x), io.read(gamma), rows, D, a.epsilon, out.data[0], out.data[1]);
  return out.infos();
}

export function rmsNormGrad(io: KernelIO, {dy, x, invRms, gamma}: NormsRMSNormGradInputs,
                            a: NormsRMSNormAttrs): TensorInfo[] {
  const {rows, D} = rmsView(x.shape, a.axisCount);
  const out = io.allocate([x.shape, gamma.shape]);
  (io.loops ?? JS_LOOPS).rmsNormBackward(io.read(dy), io.read(x), io.read(invRms), io.read(gamma), rows, D, out.data[0], out.data[1]);
  return out.infos();
}
