/**
 * The building blocks of the composite kernels: tfjs-core's own kernels (Reshape, Transpose,
 * Sum, arithmetic, …) called directly on a backend, as tfjs's kernels call each other, with
 * every intermediate disposed when the kernel returns. They exist on every tfjs backend.
 */
import {getKernel, type KernelBackend, type TensorInfo} from '@tensorflow/tfjs-core';
import {ELU_INVERSE_MIN} from '../../src/activation.js';
import type {NormActivation} from '../../src/kernel_names.js';
import type {NormView} from '../../src/norm_view.js';

/** Elements added sequentially by one Sum kernel call in `Ops.sum`. */
const SUM_BLOCK = 64;

/** Runs a kernel of `backendName` on `backend`, and owns every tensor it makes until `dispose`. */
export class Ops {
  private readonly infos: TensorInfo[] = [];
  constructor(readonly backend: KernelBackend, readonly backendName: string) {}

  private own(t: TensorInfo): TensorInfo {
    this.infos.push(t);
    return t;
  }
  private k(name: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown> = {}): TensorInfo {
    const kernel = getKernel(name, this.backendName);
    if (kernel == null) throw new Error(`tfjs-norms: kernel ${name} is not registered for backend ${this.backendName}`);
    return this.own(kernel.kernelFunc({inputs, backend: this.backend, attrs: attrs as never}) as TensorInfo);
  }
  /** Keeps `t` (a kernel output) out of the final disposal. */
  keep(t: TensorInfo): TensorInfo {
    const i = this.infos.indexOf(t);
    if (i >= 0) this.infos.splice(i, 1);
    return t;
  }
  dispose(): void {
    for (const t of this.infos) this.backend.disposeData(t.dataId);
    this.infos.length = 0;
  }

  scalar(v: number): TensorInfo {
    return this.own({dataId: this.backend.write(new Float32Array([v]), [], 'float32'), shape: [], dtype: 'float32'});
  }
  reshape(x: TensorInfo, shape: number[]) { return this.k('Reshape', {x}, {shape}); }
  transpose(x: TensorInfo, perm: number[]) { return this.k('Transpose', {x}, {perm}); }
  /**
   * Σ over `axis` (keepDims) in blocks of `SUM_BLOCK`, level by level: backends' Sum kernels add
   * sequentially in float32, so one pass over 2²⁰ elements loses ~10⁻⁴; by blocks the rounding
   * error grows with the block size and the number of levels instead.
   */
  private blockSum(x: TensorInfo, axis: number): TensorInfo {
    let t = x;
    for (;;) {
      const L = t.shape[axis];
      if (L <= SUM_BLOCK) return this.k('Sum', {x: t}, {axis: [axis], keepDims: true});
      const m = Math.ceil(L / SUM_BLOCK);
      if (m * SUM_BLOCK !== L) {
        const paddings = t.shape.map((_, i) => [0, i === axis ? m * SUM_BLOCK - L : 0]);
        t = this.k('PadV2', {x: t}, {paddings, constantValue: 0});
      }
      const blocks = [...t.shape.slice(0, axis), m, SUM_BLOCK, ...t.shape.slice(axis + 1)];
      t = this.k('Sum', {x: this.reshape(t, blocks)}, {axis: [axis + 1], keepDims: false});
    }
  }
  sum(x: TensorInfo, axis: number[], keepDims = true) {
    // Some backends' Sum (webgl) cannot reduce an empty tensor; a sum over nothing is 0.
    if (x.shape.includes(0)) {
      const shape = x.shape.map((d, i) => (axis.includes(i) ? 1 : d));
      return this.fill(keepDims ? shape : shape.filter((_, i) => !axis.includes(i)), 0);
    }
    let t = x;
    for (const a of [...axis].sort((p, q) => q - p)) t = this.blockSum(t, a);
    return keepDims ? t : this.reshape(t, t.shape.filter((_, i) => !axis.includes(i)));
  }
  add(a: TensorInfo, b: TensorInfo) { return this.k('Add', {a, b}); }
  sub(a: TensorInfo, b: TensorInfo) { return this.k('Sub', {a, b}); }
  mul(a: TensorInfo, b: TensorInfo) { return this.k('Multiply', {a, b}); }
  div(a: TensorInfo, b: TensorInfo) { return this.k('RealDiv', {a, b}); }
  sqrt(x: TensorInfo) { return this.k('Sqrt', {x}); }
  exp(x: TensorInfo) { return this.k('Exp', {x}); }
  log1p(x: TensorInfo) { return this.k('Log1p', {x}); }
  minimum(a: TensorInfo, b: TensorInfo) { return this.k('Minimum', {a, b}); }
  maximum(a: TensorInfo, b: TensorInfo) { return this.k('Maximum', {a, b}); }
  slice(x: TensorInfo, begin: number[], size: number[]) { return this.k('Slice', {x}, {begin, size}); }
  /** 1 where x > 0, else 0 (float). */
  positive(x: TensorInfo) { return this.k('Cast', {x: this.k('Greater', {a: x, b: this.scalar(0)})}, {dtype: 'float32'}); }
  /** `m ? a : b` for a 0/1 mask `m`, as `b + m·(a − b)` (a, b finite). */
  select(m: TensorInfo, a: TensorInfo, b: TensorInfo) { return this.add(b, this.mul(m, this.sub(a, b))); }
  fill(shape: number[], v: number) { return this.k('Fill', {}, {shape, value: v, dtype: 'float32'}); }
}

/** Runs `f` with fresh `Ops`; every intermediate not kept is disposed afterwards. */
export function withOps<T>(backend: KernelBackend, backendName: string, f: (o: Ops) => T): T {
  const o = new Ops(backend, backendName);
  try {
    return f(o);
  } finally {
    o.dispose();
  }
}

/** The `[N, C, S]` and per-slot `[Nn, G, L]` views of a tensor laid out like `x`. */
export class Views {
  readonly Nn: number;
  readonly L: number;
  constructor(readonly o: Ops, readonly v: NormView, readonly shape: number[]) {
    this.Nn = v.perSample ? v.N : 1;
    this.L = v.count;
  }
  toNCS(t: TensorInfo): TensorInfo {
    const {N, C, S} = this.v;
    if (!this.v.channelsLast) return this.o.reshape(t, [N, C, S]);
    return this.o.transpose(this.o.reshape(t, [N, S, C]), [0, 2, 1]);
  }
  fromNCS(t: TensorInfo): TensorInfo {
    const {N, C, S} = this.v;
    if (!this.v.channelsLast) return this.o.reshape(t, this.shape);
    return this.o.reshape(this.o.transpose(this.o.reshape(t, [N, C, S]), [0, 2, 1]), this.shape);
  }
  toSlots(t: TensorInfo): TensorInfo {
    const {N, groups: G, cpg, S} = this.v;
    const g = this.o.reshape(t, [N, G, cpg * S]);
    if (this.v.perSample) return g;
    return this.o.reshape(this.o.transpose(g, [1, 0, 2]), [1, G, this.L]);
  }
  fromSlots(t: TensorInfo): TensorInfo {
    const {N, C, groups: G, cpg, S} = this.v;
    if (this.v.perSample) return this.o.reshape(t, [N, C, S]);
    return this.o.reshape(this.o.transpose(this.o.reshape(t, [G, N, cpg * S]), [1, 0, 2]), [N, C, S]);
  }
  /** A per-slot vector `[slots]` as `[Nn, G, 1]`; per-channel `[C]` as `[1, C, 1]`. */
  slotCol(t: TensorInfo): TensorInfo { return this.o.reshape(t, [this.Nn, this.v.groups, 1]); }
  chanCol(t: TensorInfo): TensorInfo { return this.o.reshape(t, [1, this.v.C, 1]); }
}

/** `act(z)`. */
export function act(o: Ops, z: TensorInfo, a: NormActivation, alpha: number): TensorInfo {
  if (a === 'linear') return z;
  const m = o.positive(z);
  if (a === 'relu') return o.mul(m, z);
  if (a === 'leakyRelu') return o.select(m, z, o.mul(z, o.scalar(alpha)));
  return o.select(m, z, o.mul(o.scalar(alpha), o.sub(o.exp(o.minimum(z, o.scalar(0))), o.scalar(1))));
}

/** `act'(z)`, or null for the identity. */
export function actGrad(o: Ops, z: TensorInfo, a: NormActivation, alpha: number): TensorInfo | null {
  if (a === 'linear') return null;
  const m = o.positive(z);
  if (a === 'relu') return m;
  if (a === 'leakyRelu') return o.select(m, o.scalar(1), o.scalar(alpha));
  return o.select(m, o.scalar(1), o.mul(o.scalar(alpha), o.exp(o.minimum(z, o.scalar(0)))));
}

/** `act⁻¹(y)` for the invertible activations (In-Place ABN). */
export function actInv(o: Ops, y: TensorInfo, a: NormActivation, alpha: number): TensorInfo {
  if (a === 'leakyRelu') return o.select(o.positive(y), y, o.div(y, o.scalar(alpha)));
  if (a === 'elu') {
    const u = o.maximum(o.div(y, o.scalar(alpha)), o.scalar(ELU_INVERSE_MIN));
    return o.select(o.positive(y), y, o.log1p(o.minimum(u, o.scalar(0))));
  }
  return y;
}

/** `act'(z)` read from `y = act(z)`, or null for the identity. */
export function actGradY(o: Ops, y: TensorInfo, a: NormActivation, alpha: number): TensorInfo | null {
  if (a === 'leakyRelu') return o.select(o.positive(y), o.scalar(1), o.scalar(alpha));
  if (a === 'elu') return o.select(o.positive(y), o.scalar(1), o.add(y, o.scalar(alpha)));
  return null;
}
