/**
 * RMSNorm's kernels composed of tfjs's own kernels (see `ops.ts`), for any backend without fused
 * ones and for webgl's fallback: the same contract as the fused kernels (outputs, shapes). Row
 * sums go through `Ops.sum`, block by block, so long rows keep float32 backends precise.
 */
import type {KernelBackend, TensorInfo} from '@tensorflow/tfjs-core';
import type {NormsRMSNormAttrs, NormsRMSNormGradInputs, NormsRMSNormInputs} from '../../src/kernel_names.js';
import {rmsView} from '../../src/norm_view.js';
import {withOps} from './ops.js';

/** `invRms = (Σx²/D + epsilon)^-1/2` per row, `y = x·invRms·gamma`: `[y, invRms]`. */
export function rmsNormBody(backend: KernelBackend, backendName: string, inputs: NormsRMSNormInputs,
                            a: NormsRMSNormAttrs): TensorInfo[] {
  const {x, gamma} = inputs;
  const {rows, D} = rmsView(x.shape, a.axisCount);
  return withOps(backend, backendName, (o) => {
    const x2 = o.reshape(x, [rows, D]);
    const ms = o.div(o.sum(o.mul(x2, x2), [1]), o.scalar(D));
    const inv = o.div(o.scalar(1), o.sqrt(o.add(ms, o.scalar(a.epsilon))));
    const y = o.reshape(o.mul(o.mul(x2, inv), o.reshape(gamma, [1, D])), x.shape);
    return [o.keep(y), o.keep(o.reshape(inv, [rows]))];
  });
}

/** With `g = dy·gamma`: `dx = inv·g − x·inv³·Σ(g·x)/D` per row, `dgamma = Σ_rows dy·x·inv`: `[dx, dgamma]`. */
export function rmsNormGradBody(backend: KernelBackend, backendName: string, inputs: NormsRMSNormGradInputs,
                                a: NormsRMSNormAttrs): TensorInfo[] {
  const {dy, x, invRms, gamma} = inputs;
  const {rows, D} = rmsView(x.shape, a.axisCount);
  return withOps(backend, backendName, (o) => {
    const x2 = o.reshape(x, [rows, D]);
    const dy2 = o.reshape(dy, [rows, D]);
    const inv = o.reshape(invRms, [rows, 1]);
    const g = o.mul(dy2, o.reshape(gamma, [1, D]));
    const k = o.div(o.mul(o.sum(o.mul(g, x2), [1]), o.mul(o.mul(inv, inv), inv)), o.scalar(D));
    const dx = o.reshape(o.sub(o.mul(g, inv), o.mul(x2, k)), x.shape);
    const dgamma = o.reshape(o.sum(o.mul(dy2, o.mul(x2, inv)), [0], false), gamma.shape);
    return [o.keep(dx), o.keep(dgamma)];
  });
}
