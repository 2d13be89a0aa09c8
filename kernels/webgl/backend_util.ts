/**
 * Small helpers around tfjs-backend-webgl's `MathBackendWebGL`: texture data access, running
 * programs, preparing packed inputs, and the check for the float32 render path.
 *
 * Only types come from @tensorflow/tfjs-backend-webgl (an optional peer dependency); at run time
 * everything goes through the backend object the engine hands to the kernel.
 */
import {env, getKernel, type DataType, type KernelConfig, type TensorInfo} from '@tensorflow/tfjs-core';
import type {GPGPUProgram, MathBackendWebGL} from '@tensorflow/tfjs-backend-webgl';

export type WebGLBackend = MathBackendWebGL;

/** The fields of tfjs-backend-webgl's TextureData that the kernels read. */
export interface TexData {
  shape: number[];
  isPacked?: boolean;
  texShape?: [number, number];
  texture?: unknown;
  slice?: {flatOffset: number};
}

export function texData(backend: WebGLBackend, t: TensorInfo): TexData {
  return backend.texData.get(t.dataId) as unknown as TexData;
}

export function sizeOf(shape: readonly number[]): number {
  let p = 1;
  for (const d of shape) p *= d;
  return p;
}

/** A GLSL float literal for a JS number (float32-rounded). */
export function glslFloat(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`tfjs-norms webgl: non-finite constant ${v}`);
  const s = Math.fround(v).toPrecision(9);
  return s.includes('.') || s.includes('e') ? s : `${s}.0`;
}

/** `a / d` and `a % d` for a constant `d`, simplified when `d` is 1. */
export function idiv(a: string, d: number): string {
  return d === 1 ? `(${a})` : `((${a}) / ${d})`;
}
export function imod(a: string, d: number): string {
  return d === 1 ? '0' : `imod_(${a}, ${d})`;
}
/** GLSL helpers shared by every program (exact integer modulo for non-negative operands). */
export const GLSL_COMMON = `
int imod_(int a, int b) { return a - (a / b) * b; }
`;

/**
 * Texels of a custom-layout packed output (partial records, tables): `count` texels laid out
 * row-major in a `[h, w]` texel grid, never a single row (SwiftShader shades 2×2 quads and
 * splits work by rows, so one-row targets run several times slower).
 */
export interface Grid {w: number; h: number; count: number}

export function gridFor(count: number): Grid {
  const maxTex = env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
  const n = Math.max(1, count);
  let w = Math.max(2, Math.ceil(Math.sqrt(n)));
  w += w % 2;
  w = Math.min(w, maxTex);
  const h = Math.max(2, Math.ceil(n / w));
  if (h > maxTex) throw new Error(`tfjs-norms webgl: ${count} texels exceed the texture size limit`);
  return {w, h, count};
}

/** The logical shape of a packed output whose physical texture is the texel grid `g`. */
export function gridShape(g: Grid): number[] {
  return [2 * g.h, 2 * g.w];
}

/** GLSL: the flat texel index of the current fragment in grid `g`. */
export function gridIndex(g: Grid): string {
  return `(int(gl_FragCoord.y) * ${g.w} + int(gl_FragCoord.x))`;
}

/** GLSL: fetch texel `i` of an input laid out as grid `g`. */
export function gridFetch(name: string, g: Grid, i: string): string {
  return `texelFetch(${name}, ivec2((${i}) % ${g.w}, (${i}) / ${g.w}), 0)`;
}

/**
 * Runs a program and checks that tfjs gave the output the texture shape the program's GLSL
 * assumes (`expectTexShape`, in texels of a packed output).
 */
export function run(backend: WebGLBackend, program: GPGPUProgram, inputs: TensorInfo[],
                    expectTexels?: [number, number], dtype: DataType = 'float32'): TensorInfo {
  const out = backend.runWebGLProgram(program, inputs, dtype);
  if (expectTexels !== undefined) {
    const ts = texData(backend, out).texShape!;
    if (Math.ceil(ts[0] / 2) !== expectTexels[0] || Math.ceil(ts[1] / 2) !== expectTexels[1]) {
      backend.disposeIntermediateTensorInfo(out);
      throw new Error(`tfjs-norms webgl: unexpected output texture [${ts}] for ${program.constructor.name} ` +
        `(expected [${expectTexels.map((d) => 2 * d)}])`);
    }
  }
  return out;
}

/** Intermediate TensorInfos of one kernel call, disposed together at the end. */
export class Scratch {
  private readonly infos: TensorInfo[] = [];
  constructor(readonly backend: WebGLBackend) {}
  add<T extends TensorInfo>(t: T): T {
    this.infos.push(t);
    return t;
  }
  /** Keeps `t` (a kernel output) out of the final disposal. */
  release<T extends TensorInfo>(t: T): T {
    const i = this.infos.indexOf(t);
    if (i >= 0) this.infos.splice(i, 1);
    return t;
  }
  dispose(): void {
    for (const t of this.infos) this.backend.disposeIntermediateTensorInfo(t);
    this.infos.length = 0;
  }
}

/** Runs another registered webgl kernel (Reshape, Slice, …) directly, as tfjs kernels do. */
export function callKernel(backend: WebGLBackend, name: string, inputs: Record<string, TensorInfo>,
                           attrs: Record<string, unknown> = {}): TensorInfo | TensorInfo[] {
  const k = getKernel(name, 'webgl');
  if (k == null) throw new Error(`tfjs-norms webgl: kernel ${name} is not registered for webgl`);
  return k.kernelFunc({inputs, backend, attrs: attrs as never}) as TensorInfo | TensorInfo[];
}

/** Views of consecutive pieces of a 1-D unpacked table, as separate tensors (no copies). */
export function splitTable(backend: WebGLBackend, table: TensorInfo, pieces: number[][]): TensorInfo[] {
  const out: TensorInfo[] = [];
  let offset = 0;
  for (const shape of pieces) {
    const size = sizeOf(shape);
    const s = callKernel(backend, 'Slice', {x: table}, {begin: [offset], size: [size]}) as TensorInfo;
    out.push({dataId: s.dataId, shape, dtype: s.dtype});
    offset += size;
  }
  return out;
}

let warned = false;

/**
 * Whether the fused GLSL programs can run on `inputs`: they need non-empty inputs, WebGL 2 (texelFetch, integer operations)
 * and float32 render targets for their partial sums. Otherwise warns once; the kernels then
 * take the path built from tfjs kernels.
 */
export function gpuPathAvailable(inputs: object = {}): boolean {
  // An empty tensor has no texture to run a program on; the composed path returns empty results.
  if (Object.values(inputs).some((t) => t != null && (t as TensorInfo).shape.includes(0))) return false;
  const ok = env().getNumber('WEBGL_VERSION') === 2 && env().getBool('WEBGL_RENDER_FLOAT32_ENABLED');
  if (!ok && !warned) {
    warned = true;
    console.warn('tfjs-norms: this WebGL context cannot render to float32 textures (or is not WebGL 2); ' +
      'the normalization kernels fall back to compositions of tfjs kernels, at the precision of this ' +
      'context\'s textures.');
  }
  return ok;
}

type KernelPath<I, A, O> = (backend: WebGLBackend, inputs: I, attrs: A) => O;

/**
 * A webgl kernel config that runs the fused GLSL path where `gpuPathAvailable` for its inputs,
 * else the path composed of tfjs kernels.
 */
export function webglKernel<I extends object, A, O extends TensorInfo | TensorInfo[]>(
    kernelName: string, gpu: KernelPath<I, A, O>, fallback: KernelPath<I, A, O>): KernelConfig {
  return {
    kernelName,
    backendName: 'webgl',
    kernelFunc: ({inputs, backend, attrs}) => {
      const ins = inputs as unknown as I;
      const path = gpuPathAvailable(ins) ? gpu : fallback;
      return path(backend as WebGLBackend, ins, attrs as unknown as A);
    },
  };
}

/** For tests: forget that the fallback warning was given. */
export function resetFallbackWarning(): void {
  warned = false;
}
