/**
 * How the kernels address tfjs's packed textures, and how a texel's four values map to
 * channels and statistics slots of the norm view.
 *
 * tfjs packs a tensor of shape `[...batch, R2, C2]` in 2×2 blocks: texel `(b, rp, cp)` holds rows
 * `2rp, 2rp+1` and columns `2cp, 2cp+1` of batch `b` in its r, g (first row) and b, a (second
 * row) channels, and texels are laid out row-major over the texture in the order
 * `t = (b·RP + rp)·TR + cp` (`RP = ⌈R2/2⌉`, `TR = ⌈C2/2⌉`), whatever the texture's shape. Seen as
 * a matrix of `B·R2` rows of `C2` elements, element `(ρ, col)` is flat element `ρ·C2 + col`.
 */
import type {TensorInfo} from '@tensorflow/tfjs-core';
import {webgl_util} from '@tensorflow/tfjs-backend-webgl';
import type {NormView} from '../../src/norm_view.js';
import {callKernel, idiv, imod, sizeOf, texData, type Scratch, type WebGLBackend} from './backend_util.js';
import type {CompNC} from './tables.js';

export interface PackedLayout {
  /** The shape the texture was packed for (its texData.shape). */
  shape: number[];
  B: number;
  R2: number;
  C2: number;
  /** Texel rows per batch, texels per row, texels per batch. */
  RP: number;
  TR: number;
  TB: number;
  texels: number;
  /** Physical texture size in texels. */
  texW: number;
  texH: number;
}

export function packedLayout(shape: number[], texShape: [number, number]): PackedLayout {
  const rank = shape.length;
  const C2 = rank >= 1 ? shape[rank - 1] : 1;
  const R2 = rank >= 2 ? shape[rank - 2] : 1;
  const B = sizeOf(shape.slice(0, Math.max(0, rank - 2)));
  const RP = Math.ceil(R2 / 2), TR = Math.ceil(C2 / 2);
  return {shape, B, R2, C2, RP, TR, TB: RP * TR, texels: B * RP * TR,
    texW: Math.ceil(texShape[1] / 2), texH: Math.ceil(texShape[0] / 2)};
}

/** Whether two packed layouts of the same data put every element in the same texel slot. */
export function sameTexels(a: PackedLayout, b: PackedLayout): boolean {
  return a.C2 === b.C2 && (a.R2 === b.R2 || (a.R2 % 2 === 0 && b.R2 % 2 === 0));
}

/** A big input (x, y, dy) as a packed texture, with its layout. */
export interface PackedInput {
  info: TensorInfo;
  /** The block structure of the output layout, with this texture's own size. */
  layout: PackedLayout;
}

/** The packed layout tfjs gives a program output of `shape` (the kernels' outputs use it). */
export function outputLayout(shape: number[]): PackedLayout {
  return packedLayout(shape, webgl_util.getTextureShapeFromLogicalShape(shape, true));
}

/**
 * Brings `t` to a packed texture whose texels hold the same elements as the output layout
 * `like`, following tfjs's rules for packed programs: data still on the CPU is uploaded packed;
 * an unpacked texture is packed (`packTensor`); a packed texture is used as is when its blocks
 * match (its texture may have another shape: it is addressed by texel index), else repacked.
 */
export function packedInput(backend: WebGLBackend, t: TensorInfo, scratch: Scratch, like: PackedLayout): PackedInput {
  const td = texData(backend, t);
  if (td.texture == null && td.isPacked !== true) {
    // As runWebGLProgram does for packed programs: upload packed right away.
    td.isPacked = true;
    td.shape = t.shape;
  }
  backend.uploadToGPU(t.dataId);
  let info = t;
  if (td.isPacked) {
    const own = packedLayout(td.shape, td.texShape!);
    if (!sameTexels(own, like)) {
      // Another block structure: unpack, then pack in the output's layout.
      const unpacked = scratch.add(backend.unpackTensor({dataId: t.dataId, shape: td.shape, dtype: t.dtype}));
      info = scratch.add(backend.packTensor({...unpacked, shape: like.shape}));
    }
  } else {
    info = scratch.add(backend.packTensor({dataId: t.dataId, shape: like.shape, dtype: t.dtype}));
  }
  const ts = texData(backend, info).texShape!;
  return {info, layout: {...like, texW: Math.ceil(ts[1] / 2), texH: Math.ceil(ts[0] / 2)}};
}

/** Several big inputs of the same shape, each packed in blocks matching the output layout of that shape. */
export function packedInputs(backend: WebGLBackend, ts: TensorInfo[], scratch: Scratch): PackedInput[] {
  const like = outputLayout(ts[0].shape);
  return ts.map((t) => packedInput(backend, t, scratch, like));
}

/** A 1-D view of a small tensor (gamma of LayerNorm can have rank > 1). */
export function flat(backend: WebGLBackend, t: TensorInfo, scratch: Scratch): TensorInfo {
  if (t.shape.length === 1) return t;
  return scratch.add(callKernel(backend, 'Reshape', {x: t}, {shape: [sizeOf(t.shape)]}) as TensorInfo);
}

// ---------------------------------------------------------------------------------------------
// GLSL generation: texel addressing and per-texel channel / slot indices.

/** GLSL functions `vec4 <name>_at(int t)` (texel by index) and `float <name>_el(int f)` (element). */
export function texelFunctions(name: string, L: PackedLayout, withElement = false): string {
  const at = `vec4 ${name}_at(int t) { return texelFetch(${name}, ivec2(${imod('t', L.texW)}, ${idiv('t', L.texW)}), 0); }`;
  if (!withElement) return at;
  return `${at}
float ${name}_el(int f) {
  int rho = ${idiv('f', L.C2)}; int col = f - rho * ${L.C2};
  int b = ${idiv('rho', L.R2)}; int r = rho - b * ${L.R2};
  vec4 v = ${name}_at(b * ${L.TB} + (r / 2) * ${L.TR} + col / 2);
  int k = (r - (r / 2) * 2) * 2 + (col - (col / 2) * 2);
  return k == 0 ? v.x : k == 1 ? v.y : k == 2 ? v.z : v.w;
}`;
}

/** A reduction or norm view: which elements share a statistics slot. */
export interface SlotView {
  groups: number;
  perSample: boolean;
}

/** Slot index of channel `c` of sample `n` under `sv`, as GLSL. */
export function slotExpr(v: NormView, sv: SlotView, n: string, c: string): string {
  const cpg = v.C / sv.groups;
  const g = sv.groups === 1 ? '0' : idiv(c, cpg);
  if (!sv.perSample) return g;
  if (sv.groups === 1) return n;
  return `(${n} * ${sv.groups} + ${g})`;
}

/** Flat index of the first element of slot `s` under `sv`, as GLSL. */
export function slotFirstElement(v: NormView, sv: SlotView, s: string): string {
  const cpg = v.C / sv.groups;
  const n0 = sv.perSample ? idiv(s, sv.groups) : '0';
  const c0 = sv.groups === 1 ? '0' : `${imod(s, sv.groups)} * ${cpg}`;
  return v.channelsLast ? `(${n0} * ${v.S * v.C} + ${c0})` : `((${n0} * ${v.C} + ${c0}) * ${v.S})`;
}

/**
 * Generates, for one texel (or one element), the per-component channel and sample indices,
 * with textual deduplication so that values shared by components are computed and fetched once.
 */
export class TexelMap {
  /** Row-based (n, c) formulas: 'ncs' (last dim inside the spatial block), 'nsc' (inside the channel block), or per element. */
  readonly mode: 'ncs' | 'nsc' | 'flat';
  private readonly rowsShareN: boolean;
  private readonly rowsShareC: boolean;

  constructor(readonly L: PackedLayout, readonly v: NormView) {
    const {C2, R2} = L;
    const {S, C} = v;
    const shares = (D: number) => R2 === 1 || D % R2 === 0 || (R2 % 2 === 0 && D % 2 === 0);
    if (!v.channelsLast && S % C2 === 0) {
      this.mode = 'ncs';
      this.rowsShareN = this.rowsShareC = shares(S / C2);
    } else if (v.channelsLast && C % C2 === 0) {
      this.mode = 'nsc';
      this.rowsShareN = shares((S * C) / C2);
      this.rowsShareC = C === C2;
    } else {
      this.mode = 'flat';
      this.rowsShareN = this.rowsShareC = false;
    }
  }

  /**
   * GLSL declaring `rho0, rho1, col0, col1` (element rows/columns of the texel) and the bools
   * `r1ok`, `c1ok` (second row / column exist) for texel index `t`.
   */
  coords(t: string): string {
    const {R2, C2, RP, TR} = this.L;
    const lines = [`int pr_ = ${idiv(t, TR)}; int cp_ = ${t} - pr_ * ${TR};`];
    if (R2 % 2 === 0) {
      lines.push('int rho0 = 2 * pr_; bool r1ok = true;');
    } else {
      lines.push(`int b_ = ${idiv('pr_', RP)}; int rp_ = pr_ - b_ * ${RP};`,
        `int rho0 = b_ * ${R2} + 2 * rp_; bool r1ok = 2 * rp_ + 1 < ${R2};`);
    }
    lines.push('int rho1 = rho0 + 1; int col0 = 2 * cp_; int col1 = col0 + 1;',
      C2 % 2 === 0 ? 'bool c1ok = true;' : `bool c1ok = col1 < ${C2};`);
    return lines.join('\n');
  }

  /** GLSL bvec4 of the components that hold data (not padding). */
  validMask(): string {
    const r = this.L.R2 % 2 === 0 ? 'true' : 'r1ok';
    const c = this.L.C2 % 2 === 0 ? 'true' : 'c1ok';
    return `bvec4(true, ${c}, ${r}, ${r} && ${c})`;
  }

  /**
   * Declarations of the per-row / per-column helper ints used by `nExpr`/`cExpr`, for the given
   * components (0..3 = r, g, b, a).
   */
  helpers(comps: number[]): string {
    const {C2} = this.L;
    const {S, C} = this.v;
    const rows = [...new Set(comps.map((k) => this.rowOf(k)))];
    const lines: string[] = [];
    for (const r of rows) {
      if (this.mode === 'ncs') {
        lines.push(`int q${r}_ = ${idiv(`rho${r}`, S / C2)};`);
        lines.push(`int n${r}_ = ${idiv(`q${r}_`, C)}; int c${r}_ = ${imod(`q${r}_`, C)};`);
      } else if (this.mode === 'nsc') {
        lines.push(`int n${r}_ = ${idiv(`rho${r}`, (S * C) / C2)};`);
        if (C !== C2) lines.push(`int cb${r}_ = ${imod(`rho${r}`, C / C2)} * ${C2};`);
      } else {
        for (const k of comps.filter((kk) => this.rowOf(kk) === r)) {
          const col = `col${k & 1}`;
          lines.push(`int f${k}_ = rho${r} * ${C2} + ${col};`);
          if (this.v.channelsLast) {
            lines.push(`int n${k}_ = ${idiv(`f${k}_`, S * C)}; int c${k}_ = ${imod(`f${k}_`, C)};`);
          } else {
            lines.push(`int q${k}_ = ${idiv(`f${k}_`, S)}; int n${k}_ = ${idiv(`q${k}_`, C)}; int c${k}_ = ${imod(`q${k}_`, C)};`);
          }
        }
      }
    }
    return lines.join('\n');
  }

  private rowOf(k: number): number {
    return k >> 1;
  }

  nExpr(k: number): string {
    const r = this.rowOf(k);
    if (this.mode === 'flat') return `n${k}_`;
    return this.rowsShareN ? 'n0_' : `n${r}_`;
  }

  cExpr(k: number): string {
    const r = this.rowOf(k);
    if (this.mode === 'flat') return `c${k}_`;
    if (this.mode === 'ncs') return this.rowsShareC ? 'c0_' : `c${r}_`;
    const col = `col${k & 1}`;
    if (this.v.C === this.L.C2) return col;
    return `(${this.rowsShareC ? 'cb0_' : `cb${r}_`} + ${col})`;
  }

  /** Whether the texel's two columns are channels (c, c+1) of one channel pair. */
  get pairAligned(): boolean {
    return this.mode === 'nsc' && (this.L.C2 % 2 === 0 || this.v.C === this.L.C2);
  }

  /** Component k's sample and channel (after `coords` and `helpers`), for table lookups. */
  compNC(k: number): CompNC {
    const nc: CompNC = {n: this.nExpr(k), c: this.cExpr(k)};
    if (this.pairAligned) {
      nc.pairC = this.cExpr(k & 2);
      nc.odd = (k & 1) === 1;
    }
    return nc;
  }

  /** All four components (padding ones too: their lookups are clamped and their values masked). */
  comps(): CompNC[] {
    return [0, 1, 2, 3].map((k) => this.compNC(k));
  }
}
