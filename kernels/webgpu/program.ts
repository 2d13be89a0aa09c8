/**
 * How the WGSL kernels run on tfjs-backend-webgpu: a program object shaped like the backend's
 * own (`variableNames`, `outputShape`, `shaderKey`, `dispatchLayout`, `dispatch`,
 * `workgroupSize`, `size`, `uniforms`, `getUserCode()`), run by `backend.runWebGPUProgram`.
 *
 * Every tensor is handed over as a flat 1-D view of its buffer (same `dataId`), so the backend's
 * generated accessors stay trivial and the kernels index the flat data themselves. A new program
 * object is built per call (the backend overwrites `shaderKey`), and everything baked into the
 * WGSL text is part of the key: a stale pipeline under a reused key would run the wrong code.
 * Only types come from @tensorflow/tfjs-backend-webgpu (an optional peer dependency).
 */
import type {DataType, KernelBackend, TensorInfo} from '@tensorflow/tfjs-core';

export interface Uniform {
  type: 'int32' | 'float32';
  data: number[];
}

/** The fields of the backend's `WebGPUProgram` that our programs set. */
export interface NormsProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: {x: number[]};
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  size: boolean;
  uniforms: string;
  outputComponent?: number;
  variableComponents?: number[];
  getUserCode: () => string;
}

/** The part of `WebGPUBackend` the kernels use. */
export interface WebGPUBackendLike {
  runWebGPUProgram(program: NormsProgram, inputs: TensorInfo[], dtype: DataType, uniforms?: Uniform[]): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

export function asWebGPU(backend: KernelBackend): WebGPUBackendLike {
  return backend as unknown as WebGPUBackendLike;
}

export function sizeOf(shape: readonly number[]): number {
  let p = 1;
  for (const d of shape) p *= d;
  return p;
}

/** A 1-D view of a tensor's buffer (no copy). */
export function flat(t: TensorInfo): TensorInfo {
  if (t.dtype !== 'float32') throw new Error(`tfjs-norms webgpu kernels take float32 tensors; got ${t.dtype}`);
  return {dataId: t.dataId, shape: [sizeOf(t.shape)], dtype: 'float32'};
}

export interface ProgramSpec {
  /** Everything the WGSL text depends on besides the inputs' names. */
  key: string;
  inputs: Array<[name: string, t: TensorInfo]>;
  /** Flat output length. */
  outputSize: number;
  /** One workgroup per output row (`rows`), or invocations over the output, `perInvocation` values each (`flat`). */
  dispatch: {rows: number; workgroup: number} | {flat: true; workgroup: number; perInvocation?: number};
  /** Uniform declarations and values, in order (`name: type`). */
  uniforms: Array<[name: string, type: 'i32' | 'f32', value: number]>;
  /**
   * Inputs read as `array<vec4<f32>>` (their sizes multiples of 4); when set, the output is
   * `array<vec4<f32>>` too and `index`, `uniforms.size` count vectors.
   */
  vec4Inputs?: string[];
  /** WGSL defining `fn body(index : i32)` (the flat invocation index; `result` is the output). */
  code: string;
}

/** Runs one WGSL program; returns its flat float32 output. */
export function runProgram(backend: WebGPUBackendLike, spec: ProgramSpec): TensorInfo {
  const wg = spec.dispatch.workgroup;
  const groups = 'rows' in spec.dispatch ? spec.dispatch.rows :
    Math.ceil(spec.outputSize / (wg * (spec.dispatch.perInvocation ?? 1)));
  // Every input is referenced (a never-taken branch) so that the pipeline's automatic layout
  // keeps its binding even where the program does not read it (e.g. gamma with no activation).
  const touch = spec.inputs.map(([name]) => `_ = ${name}[0];`).join(' ');
  const code = `${spec.code}
fn main(index : i32) {
  if (uniforms.size < 0) { ${touch} }
  body(index);
}`;
  const vec4 = spec.vec4Inputs;
  const program: NormsProgram = {
    variableNames: spec.inputs.map(([name]) => name),
    outputShape: [spec.outputSize],
    shaderKey: `norms_${spec.key}_wg${wg}${vec4 ? `_v4${vec4.join('')}` : ''}`,
    dispatchLayout: {x: [0]},
    // The backend spreads more than 65535 workgroups over y and z (getGlobalIndex follows).
    dispatch: [Math.max(1, groups), 1, 1],
    workgroupSize: [wg, 1, 1],
    size: true,
    uniforms: spec.uniforms.map(([name, type]) => `${name} : ${type},`).join(' '),
    getUserCode: () => code,
    ...(vec4 ? {outputComponent: 4, variableComponents: spec.inputs.map(([name]) => (vec4.includes(name) ? 4 : 1))} : {}),
  };
  const uniforms: Uniform[] = spec.uniforms.map(([, type, value]) => ({type: type === 'i32' ? 'int32' : 'float32', data: [value]}));
  return backend.runWebGPUProgram(program, spec.inputs.map(([, t]) => flat(t)), 'float32', uniforms);
}

/** `length` elements from `offset` of a flat buffer, as a tensor of `shape`. */
export function pick(backend: WebGPUBackendLike, src: TensorInfo, offset: number, shape: number[]): TensorInfo {
  const n = sizeOf(shape);
  const out = runProgram(backend, {
    key: 'pick',
    inputs: [['src', src]],
    outputSize: n,
    dispatch: {flat: true, workgroup: 64},
    uniforms: [['offset', 'i32', offset]],
    code: `
fn body(index : i32) {
  if (index < uniforms.size) { result[index] = src[index + uniforms.offset]; }
}`,
  });
  return {...out, shape};
}

export function dispose(backend: WebGPUBackendLike, ...infos: TensorInfo[]): void {
  for (const t of infos) backend.disposeData(t.dataId);
}
