/**
 * Running TensorFlow eager ops from a kernel of the `tensorflow` backend (tfjs-node and
 * tfjs-node-gpu), the way tfjs-node's own kernels do, but on raw TensorFlow tensor handles.
 *
 * tfjs-node's `executeSingleOutput` wraps every result in a tfjs `Tensor` (engine bookkeeping,
 * ~20 µs per op); a norm kernel runs 5–15 ops, most of them on small per-slot vectors, so the
 * intermediates stay raw handles here (~8 µs per op) and only the kernel's outputs become
 * tfjs tensors. Every handle an `Eager` creates is deleted when the kernel ends (or earlier
 * with `free`), so nothing leaks at the TensorFlow level either.
 *
 * The members used below (`binding`, `getInputTensorIds`, `createOutputTensor`,
 * `isUsingGpuDevice`) are those of tfjs-node 4.x's `NodeJSKernelBackend`; `nodeBackend`
 * checks they are there.
 */
import type {KernelBackend, TensorInfo} from '@tensorflow/tfjs-core';

export interface TfTensorMetadata {
  id: number;
  shape: number[];
  dtype: number;
}

export interface TfOpAttr {
  name: string;
  type: number;
  value: boolean | number | string | number[];
}

/** The N-API binding of tfjs-node (`tfjs_binding.node`), as far as it is used here. */
export interface TfBinding {
  executeOp(name: string, attrs: TfOpAttr[], inputs: number[], numOutputs: number): TfTensorMetadata[];
  deleteTensor(id: number): void;
  tensorDataSync(id: number): Float32Array | Int32Array | Uint8Array;
  createTensor(shape: number[], dtype: number, values: Float32Array | Int32Array): number;
  getNumOfTensors(): number;
  TF_FLOAT: number;
  TF_INT32: number;
  TF_ATTR_STRING: number;
  TF_ATTR_INT: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_TYPE: number;
}

/** tfjs-node's `NodeJSKernelBackend` (backend name `tensorflow`). */
export interface NodeKernelBackend extends KernelBackend {
  binding: TfBinding;
  isUsingGpuDevice: boolean;
  getInputTensorIds(tensors: TensorInfo[]): number[];
  createOutputTensor(metadata: TfTensorMetadata): TensorInfo;
}

export function nodeBackend(backend: unknown): NodeKernelBackend {
  const b = backend as Partial<NodeKernelBackend> | null;
  if (b == null || typeof b.binding?.executeOp !== 'function' || typeof b.getInputTensorIds !== 'function' ||
      typeof b.createOutputTensor !== 'function') {
    throw new Error('tfjs-norms: the tensorflow kernels need the NodeJSKernelBackend of ' +
      '@tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu 4.x');
  }
  return b as NodeKernelBackend;
}

/** A TensorFlow tensor handle and its shape. */
export interface H {
  readonly id: number;
  readonly shape: readonly number[];
}

/** `NHWC`/`NCHW`, or `NDHWC`/`NCDHW` for 5-D inputs. */
export type DataFormat = 'NHWC' | 'NCHW' | 'NDHWC' | 'NCDHW' | string;

/** `FusedBatchNormV3` outputs. */
export interface FbnOutputs {
  y: H;
  batchMean: H;
  /** Bessel-corrected (unbiased) batch variance in training mode. */
  batchVariance: H;
  reserve1: H;
  reserve2: H;
  reserve3: H;
}

/** `FusedBatchNormGradV3` outputs (the two placeholders are freed). */
export interface FbnGradOutputs {
  dx: H;
  /** Σ dy·x̂ per channel. */
  scaleGrad: H;
  /** Σ dy per channel. */
  offsetGrad: H;
}

/** One kernel call's worth of eager ops; `dispose` deletes every handle it still owns. */
export class Eager {
  readonly binding: TfBinding;
  readonly gpu: boolean;
  private readonly owned = new Set<number>();
  private readonly T: TfOpAttr;

  constructor(readonly backend: NodeKernelBackend) {
    this.binding = backend.binding;
    this.gpu = backend.isUsingGpuDevice === true;
    this.T = {name: 'T', type: this.binding.TF_ATTR_TYPE, value: this.binding.TF_FLOAT};
  }

  /** A kernel input (not owned: never deleted here). */
  input(t: TensorInfo): H {
    return {id: this.backend.getInputTensorIds([t])[0], shape: t.shape.slice()};
  }

  /** Runs an op; its outputs are owned by this `Eager`. */
  run(name: string, attrs: TfOpAttr[], inputs: H[], numOutputs = 1): H[] {
    const out = this.binding.executeOp(name, attrs, inputs.map((h) => h.id), numOutputs);
    return out.map((m) => {
      this.owned.add(m.id);
      return {id: m.id, shape: m.shape};
    });
  }

  /** Runs an op of one float output and the type attribute `T`. */
  run1(name: string, inputs: H[], attrs: TfOpAttr[] = []): H {
    return this.run(name, [this.T, ...attrs], inputs)[0];
  }

  free(...handles: Array<H | undefined>): void {
    for (const h of handles) {
      if (h !== undefined && this.owned.delete(h.id)) this.binding.deleteTensor(h.id);
    }
  }

  dispose(): void {
    for (const id of this.owned) this.binding.deleteTensor(id);
    this.owned.clear();
  }

  // ----- attributes -----
  str(name: string, value: string): TfOpAttr {
    return {name, type: this.binding.TF_ATTR_STRING, value};
  }

  bool(name: string, value: boolean): TfOpAttr {
    return {name, type: this.binding.TF_ATTR_BOOL, value};
  }

  float(name: string, value: number): TfOpAttr {
    return {name, type: this.binding.TF_ATTR_FLOAT, value};
  }

  private int32Type(name: string): TfOpAttr {
    return {name, type: this.binding.TF_ATTR_TYPE, value: this.binding.TF_INT32};
  }

  // ----- host data -----
  f32(values: ArrayLike<number>, shape: readonly number[]): H {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    const id = this.binding.createTensor(shape.slice(), this.binding.TF_FLOAT, data);
    this.owned.add(id);
    return {id, shape: shape.slice()};
  }

  private i32(values: readonly number[]): H {
    const id = this.binding.createTensor([values.length], this.binding.TF_INT32, Int32Array.from(values));
    this.owned.add(id);
    return {id, shape: [values.length]};
  }

  /** The values of a (small) handle: a fresh copy (the binding copies out of TensorFlow). */
  read(h: H): Float32Array {
    return this.binding.tensorDataSync(h.id) as Float32Array;
  }

  /** The values of a (small) kernel input. */
  readInput(t: TensorInfo): Float32Array {
    return this.backend.readSync(t.dataId) as Float32Array;
  }

  /** Hands a handle over to tfjs as a kernel output. */
  output(h: H, shape: readonly number[] = h.shape): TensorInfo {
    const r = sameShape(h.shape, shape) ? h : this.reshape(h, shape);
    this.owned.delete(r.id);
    return this.backend.createOutputTensor({id: r.id, shape: shape.slice(), dtype: this.binding.TF_FLOAT});
  }

  /** A kernel output from host values. */
  outputHost(values: ArrayLike<number>, shape: readonly number[]): TensorInfo {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    return {dataId: this.backend.write(data, shape.slice(), 'float32'), shape: shape.slice(), dtype: 'float32'};
  }

  // ----- ops -----
  reshape(h: H, shape: readonly number[]): H {
    if (sameShape(h.shape, shape)) return h;
    const s = this.i32(shape);
    const [r] = this.run('Reshape', [this.T, this.int32Type('Tshape')], [h, s]);
    this.free(s);
    return r;
  }

  slice(h: H, begin: readonly number[], size: readonly number[]): H {
    const b = this.i32(begin);
    const s = this.i32(size);
    const [r] = this.run('Slice', [this.T, this.int32Type('Index')], [h, b, s]);
    this.free(b, s);
    return r;
  }

  add(a: H, b: H): H { return this.run1('AddV2', [a, b]); }
  sub(a: H, b: H): H { return this.run1('Sub', [a, b]); }
  mul(a: H, b: H): H { return this.run1('Mul', [a, b]); }
  minimum(a: H, b: H): H { return this.run1('Minimum', [a, b]); }
  maximum(a: H, b: H): H { return this.run1('Maximum', [a, b]); }
  relu(a: H): H { return this.run1('Relu', [a]); }
  elu(a: H): H { return this.run1('Elu', [a]); }
  log1p(a: H): H { return this.run1('Log1p', [a]); }
  leakyRelu(a: H, alpha: number): H { return this.run1('LeakyRelu', [a], [this.float('alpha', alpha)]); }
  reluGrad(dy: H, features: H): H { return this.run1('ReluGrad', [dy, features]); }
  eluGrad(dy: H, outputs: H): H { return this.run1('EluGrad', [dy, outputs]); }
  leakyReluGrad(dy: H, features: H, alpha: number): H {
    return this.run1('LeakyReluGrad', [dy, features], [this.float('alpha', alpha)]);
  }

  /** `Sum` (or another reduction) over `axes`, dropping them. */
  reduce(op: 'Sum' | 'EuclideanNorm', h: H, axes: readonly number[]): H {
    const a = this.i32(axes);
    const [r] = this.run(op, [this.bool('keep_dims', false), this.T, this.int32Type('Tidx')], [h, a]);
    this.free(a);
    return r;
  }

  /** `FusedBatchNormV3` on a 4-D or 5-D `x`. In training mode `mean`/`variance` may be empty. */
  fusedBatchNorm(x: H, scale: H, offset: H, mean: H, variance: H, epsilon: number,
                 format: DataFormat, training: boolean): FbnOutputs {
    const [y, batchMean, batchVariance, reserve1, reserve2, reserve3] = this.run('FusedBatchNormV3', [
      this.T, {name: 'U', type: this.binding.TF_ATTR_TYPE, value: this.binding.TF_FLOAT},
      this.float('epsilon', epsilon), this.str('data_format', format), this.bool('is_training', training),
    ], [x, scale, offset, mean, variance], 6);
    return {y, batchMean, batchVariance, reserve1, reserve2, reserve3};
  }

  /** `FusedBatchNormGradV3` on a 4-D or 5-D `x` (`is_training: false` needs NHWC). */
  fusedBatchNormGrad(dy: H, x: H, scale: H, reserve1: H, reserve2: H, epsilon: number,
                     format: DataFormat, training: boolean): FbnGradOutputs {
    // A rank-0 reserve_space_3 means "no cuDNN reserve space" on GPUs; the CPU kernel ignores it.
    const reserve3 = this.f32([0], []);
    const [dx, scaleGrad, offsetGrad, p1, p2] = this.run('FusedBatchNormGradV3', [
      this.T, {name: 'U', type: this.binding.TF_ATTR_TYPE, value: this.binding.TF_FLOAT},
      this.float('epsilon', epsilon), this.str('data_format', format), this.bool('is_training', training),
    ], [dy, x, scale, reserve1, reserve2, reserve3], 5);
    this.free(p1, p2, reserve3);
    return {dx, scaleGrad, offsetGrad};
  }

  /**
   * oneDNN's fused layer norm (`_MklLayerNorm`: statistics over the last axis, per-column scale
   * and offset), present in TensorFlow's x86 builds with oneDNN. The empty `_kernel` label
   * selects its CPU kernel in eager mode.
   */
  mklLayerNorm(x: H, scale: H, offset: H, epsilon: number): H {
    return this.run1('_MklLayerNorm', [x, scale, offset], [this.float('epsilon', epsilon), this.str('_kernel', '')]);
  }

  /**
   * `_MklLayerNorm` over rows of `C` values, on `x`'s own shape when that is 2-D or 3-D with `C`
   * last (no `Reshape`s), else through `[rows, C]`; the result has `x`'s shape.
   */
  layerNormRows(x: H, C: number, scale: H, offset: H, epsilon: number): H {
    const own = (x.shape.length === 2 || x.shape.length === 3) && x.shape[x.shape.length - 1] === C;
    if (own) return this.mklLayerNorm(x, scale, offset, epsilon);
    const rows = this.reshape(x, [x.shape.reduce((a, b) => a * b, 1) / C, C]);
    const y = this.mklLayerNorm(rows, scale, offset, epsilon);
    const r = this.reshape(y, x.shape);
    this.free(rows === x ? undefined : rows, y === r ? undefined : y);
    return r;
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Runs `f` with a fresh `Eager` and deletes every intermediate handle afterwards. */
export function withEager<R>(backend: unknown, f: (e: Eager) => R): R {
  const e = new Eager(nodeBackend(backend));
  try {
    return f(e);
  } finally {
    e.dispose();
  }
}
