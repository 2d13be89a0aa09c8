/**
 * RMSNorm's kernels composed of tfjs's own kernels (Reshape, Square, Sum, Mul, Rsqrt, ...), for
 * any backend without fused ones: the same contract as the fused kernels (outputs, shapes),
 * run through the backend's registered kernels so no tensor is taped or tracked by the engine.
 */
import {
  engine, getKernel, type DataType, type KernelBackend, type KernelConfig, type KernelFunc, type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import {
  NormsRMSNorm, type NormsRMSNormAttrs, NormsRMSNormGrad, type NormsRMSNormGradInputs, type NormsRMSNormInputs,
} from '../../src/kernel_names.js';
import {rmsView} from '../../src/norm_view.js';

/** Calls the active backend's kernels; every intermediate is disposed by `done`. */
class Calls {
  private readonly scratch: TensorInfo[] = [];
  constructor(private readonly backend: KernelBackend, private readonly backendName: string) {}

  k(name: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = getKernel(name, this.backendName);
    if (kernel == null) throw new Error(`tfjs-norms: kernel ${name} is not registered for ${this.backendName}`);
    const out = kernel.kernelFunc({inputs, backend: this.backend, attrs}) as TensorInfo;
    this.scratch.push(out);
    return out;
  }
  scalar(v: number, dtype: DataType = 'float32'): TensorInfo {
    const t = {dataId: this.backend.write(new Float32Array([v]), [], dtype), shape: [], dtype};
    this.scratch.push(t);
    return t;
  }
  reshape(x: TensorInfo, shape: number[]) { return this.k('Reshape', {x}, {shape}); }
  mul(a: TensorInfo, b: TensorInfo) { return this.k('Multiply', {a, b}); }
  sum(x: TensorInfo, axis: number, keepDims: boolean) { return this.k('Sum', {x}, {axis: [axis], keepDims}); }

  /** Keeps `outputs` and disposes every other intermediate. */
  done(...outputs: TensorInfo[]): TensorInfo[] {
    for (const t of this.scratch) if (!outputs.includes(t)) this.backend.disposeData(t.dataId);
    return outputs;
  }
}

/** The forward on `backend` with the kernels registered for `backendName`. */
export function rmsNormBody(backend: KernelBackend, backendName: string, inputs: NormsRMSNormInputs,
                            a: NormsRMSNormAttrs): TensorInfo[] {
  const {x, gamma} = inputs;
  const {rows, D} = rmsView(x.shape, a.axisCount);
  const o = new Calls(backend, backendName);
  const x2 = o.reshape(x, [rows, D]);
  const ms = o.mul(o.sum(o.k('Square', {x: x2}), 1, true), o.scalar(1 / D));
  const inv = o.k('Rsqrt', {x: o.k('Add', {a: ms, b: o.scalar(a.epsilon)})});
  const y = o.reshape(o.mul(o.mul(x2, inv), o.reshape(gamma, [1, D])), x.shape);
  return o.done(y, o.reshape(inv, [rows]));
}

/** The backward on `backend` with the kernels registered for `backendName`. */
export function rmsNormGradBody(backend: KernelBackend, backendName: string, inputs: NormsRMSNormGradInputs,
                                a: NormsRMSNormAttrs): TensorInfo[] {
  const {dy, x, invRms, gamma} = inputs;
  const {rows, D} = rmsView(x.shape, a.axisCount);
  const o = new Calls(backend, backendName);
  const x2 = o.reshape(x, [rows, D]);
  const dy2 = o.reshape(dy, [rows, D]);
  const inv = o.reshape(invRms, [rows, 1]);
  const g = o.mul(dy2, o.reshape(gamma, [1, D]));
  // dx = inv·g − x·inv³·Σ(g·x)/D
  const k = o.mul(o.mul(o.sum(o.mul(g, x2), 1, true), o.mul(o.mul(inv, inv), inv)), o.scalar(1 / D));
  const dx = o.reshape(o.k('Sub', {a: o.mul(g, inv), b: o.mul(x2, k)}), x.shape);
  const dgamma = o.reshape(o.sum(o.mul(dy2, o.mul(x2, inv)), 0, false), gamma.shape);
  return o.done(dx, dgamma);
}

/** Kernel functions of the active backend (the engine's backend runs the kernel). */
export const rmsNormComposite: KernelFunc = ({inputs, backend, attrs}) =>
  rmsNormBody(backend as KernelBackend, engine().backendName, inputs as NormsRMSNormInputs,
              attrs as unknown as NormsRMSNormAttrs);
export const rmsNormGradComposite: KernelFunc = ({inputs, backend, attrs}) =>
  rmsNormGradBody(backend as KernelBackend, engine().backendName, inputs as NormsRMSNormGradInputs,
                  attrs as unknown as NormsRMSNormAttrs);

/** The composite kernels as configs for `backendName`. */
export function rmsNormCompositeConfigs(backendName: string): KernelConfig[] {
  return [
    {kernelName: NormsRMSNorm, backendName, kernelFunc: ({inputs, backend, attrs}) =>
      rmsNormBody(backend as KernelBackend, backendName, inputs as NormsRMSNormInputs, attrs as unknown as NormsRMSNormAttrs)},
    {kernelName: NormsRMSNormGrad, backendName, kernelFunc: ({inputs, backend, attrs}) =>
      rmsNormGradBody(backend as KernelBackend, backendName, inputs as NormsRMSNormGradInputs,
                      attrs as unknown as NormsRMSNormAttrs)},
  ];
}
