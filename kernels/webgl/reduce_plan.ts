/**
 * How a reduction over a packed texture is split into work items (one fragment each), and how
 * the merge stage finds the partial records of each slot.
 *
 * Four schemes, chosen from the texture's block structure and the slot definition:
 * - `rowrun`: every matrix row belongs to one slot and a slot's rows are whole texel rows of
 *   whole batches (NCHW with spatial last dims, LayerNorm over several axes): each slot is a few
 *   contiguous runs of texels; an item reads a tile of them; one record (n, mean, M2) per item.
 * - `rowpair`: every row belongs to one slot but the two rows of a texel may not (LayerNorm over
 *   the last axis, NCS of rank 3): an item reads a tile of one texel row pair; its record holds
 *   the two rows' partials.
 * - `col`: channels last with the channel dimension innermost (NHWC): an item reads a tile of
 *   one column pair (two channels) within one sample (or all samples); its record holds the two
 *   columns' partials.
 * - `elem`: anything else: an item reads a tile of a slot's elements one by one.
 */
import type {NormView} from '../../src/norm_view.js';
import {gridFor, idiv, imod, type Grid} from './backend_util.js';
import type {PackedLayout, SlotView} from './layout.js';
import {slotFirstElement} from './layout.js';

export type ReduceKind = 'rowrun' | 'rowpair' | 'col' | 'elem' | 'single';

interface RowRuns {
  Lrows: number;
  strideRows: number;
  R: number;
}

export interface ReducePlan {
  kind: ReduceKind;
  L: PackedLayout;
  v: NormView;
  sv: SlotView;
  /** Number of reduction slots. */
  slots: number;
  items: number;
  grid: Grid;
  /** Records per slot, enumerated by `recordGlsl`. */
  perSlot: number;
  /** Records hold two sub-slots (their counts follow from the plan's geometry). */
  pair: boolean;
  /** Tile length (texels; elements for `elem`; records for `single`). */
  T: number;
  rows?: RowRuns;
  /** rowrun: texel runs; elem: element runs. */
  runLen?: number;
  runStride?: number;
  runs?: number;
  /** rowpair: tiles per row pair; col: tiles per stream, rowpairs per stream, streams per column pair. */
  K?: number;
  Jn?: number;
  Nn?: number;
}

/** Texels (or elements) per work item, chosen by measurement on SwiftShader: about 4096 items
 * keep both cores busy; shorter tiles write too many records, longer ones leave cores idle. */
function tileFor(totalTexels: number): number {
  return Math.min(512, Math.max(16, Math.ceil(totalTexels / 4096)));
}

function rowRuns(L: PackedLayout, v: NormView, sv: SlotView): RowRuns | null {
  const cpg = v.C / sv.groups;
  const Nn = sv.perSample ? 1 : v.N;
  let Lrows: number, strideRows: number, R: number;
  if (!v.channelsLast) {
    if (v.S % L.C2 !== 0) return null;
    Lrows = (cpg * v.S) / L.C2;
    strideRows = (v.C * v.S) / L.C2;
    R = Nn;
  } else {
    if (v.C % L.C2 !== 0 || cpg % L.C2 !== 0) return null;
    Lrows = cpg / L.C2;
    strideRows = v.C / L.C2;
    R = Nn * v.S;
  }
  if (strideRows === Lrows || R === 1) {
    Lrows *= R;
    strideRows = Lrows;
    R = 1;
  }
  return {Lrows, strideRows, R};
}

/** GLSL: the first matrix row of slot `s` (row-based schemes). */
export function baseRowGlsl(p: ReducePlan, s: string): string {
  const {v, sv, L} = p;
  const cpg = v.C / sv.groups;
  const n0 = sv.perSample ? idiv(s, sv.groups) : '0';
  const gi = sv.groups === 1 ? '0' : imod(s, sv.groups);
  if (!v.channelsLast) return `((${n0} * ${v.C} + ${gi} * ${cpg}) * ${v.S / L.C2})`;
  return `(${n0} * ${(v.S * v.C) / L.C2} + ${gi} * ${cpg / L.C2})`;
}

export function planReduction(L: PackedLayout, v: NormView, sv: SlotView): ReducePlan {
  const slots = (sv.perSample ? v.N : 1) * sv.groups;
  const cpg = v.C / sv.groups;
  const T0 = tileFor(L.texels);
  const base = {L, v, sv, slots};
  const rows = rowRuns(L, v, sv);
  if (rows !== null) {
    const {Lrows, strideRows, R} = rows;
    if (L.R2 === 1 || (Lrows % L.R2 === 0 && (R === 1 || strideRows % L.R2 === 0))) {
      const runLen = (Lrows / L.R2) * L.TB;
      const total = R * runLen;
      const K = Math.ceil(total / Math.min(T0, total));
      const T = Math.ceil(total / K);
      const items = slots * K;
      return {...base, kind: 'rowrun', items, grid: gridFor(items), perSlot: K, pair: false, T, rows,
        runLen, runStride: (strideRows / L.R2) * L.TB, runs: R};
    }
    const T = Math.min(L.TR, T0);
    const K = Math.ceil(L.TR / T);
    const items = L.B * L.RP * K;
    return {...base, kind: 'rowpair', items, grid: gridFor(items), perSlot: R * Lrows * K, pair: true,
      T: Math.ceil(L.TR / K), rows, K};
  }
  if (v.channelsLast && L.C2 === v.C && (!sv.perSample || v.S % L.R2 === 0)) {
    const Nn = sv.perSample ? v.N : 1;
    const Jn = sv.perSample ? (v.S / L.R2) * L.RP : L.B * L.RP;
    const T = Math.min(Jn, T0);
    const K = Math.ceil(Jn / T);
    const items = L.TR * Nn * K;
    return {...base, kind: 'col', items, grid: gridFor(items), perSlot: cpg * K, pair: true,
      T: Math.ceil(Jn / K), K, Jn, Nn};
  }
  // Element by element: runs of contiguous elements in flat order.
  const Nn = sv.perSample ? 1 : v.N;
  let runLen: number, runStride: number, runs: number;
  if (!v.channelsLast) {
    runLen = cpg * v.S; runStride = v.C * v.S; runs = Nn;
  } else {
    runLen = cpg; runStride = v.C; runs = Nn * v.S;
  }
  if (runStride === runLen || runs === 1) {
    runLen *= runs; runStride = runLen; runs = 1;
  }
  const total = runLen * runs;
  const K = Math.ceil(total / Math.min(total, 4 * T0));
  const items = slots * K;
  return {...base, kind: 'elem', items, grid: gridFor(items), perSlot: K, pair: false,
    T: Math.ceil(total / K), runLen, runStride, runs};
}

/** A merge level: `slots` slots of `perSlot` single records each, merged `T` at a time. */
export function singlePlan(prev: ReducePlan, T: number): ReducePlan {
  const K = Math.ceil(prev.perSlot / T);
  const items = prev.slots * K;
  return {...prev, kind: 'single', items, grid: gridFor(items), perSlot: K, pair: false, T};
}

/** Largest number of records one fragment of the final merge reads per slot. */
export const MERGE_MAX = 256;
/** Records per fragment of an intermediate merge level. */
export const MERGE_CHUNK = 64;

/**
 * GLSL for the merge stage: `void rec_(int s, int j, out vec4 r)` returns record `j` of slot `s`
 * as (n, mean, M2, -) for statistics or (a, b, -, -) for sums, reading partials texture `P` of
 * plan `p`. `stats` selects which.
 */
export function recordGlsl(p: ReducePlan, stats: boolean): string {
  const fetch = (i: string) => `texelFetch(P, ivec2(${imod(i, p.grid.w)}, ${idiv(i, p.grid.w)}), 0)`;
  const L = p.L;
  switch (p.kind) {
    case 'rowrun': case 'elem': case 'single':
      return `void rec_(int s, int j, out vec4 r) { r = ${fetch(`j * ${p.slots} + s`)}; }`;
    case 'rowpair': {
      const {Lrows, strideRows} = p.rows!;
      const K = p.K!;
      const last = `(${2 * L.TR} - ${2 * p.T} * ${K - 1}) - ${L.C2 % 2}`;
      return `
void rec_(int s, int j, out vec4 r) {
  int kc = ${imod('j', K)}; int ri = ${idiv('j', K)};
  int rho = ${baseRowGlsl(p, 's')} + ${idiv('ri', Lrows)} * ${strideRows} + ${imod('ri', Lrows)};
  int b = ${idiv('rho', L.R2)}; int rr = rho - b * ${L.R2};
  vec4 v = ${fetch(`kc * ${L.B * L.RP} + b * ${L.RP} + rr / 2`)};
  float n = kc == ${K - 1} ? float(${last}) : ${glslCount(2 * p.T)};
  bool second = rr - (rr / 2) * 2 == 1;
  ${stats ? 'r = second ? vec4(n, v.z, v.w, 0.0) : vec4(n, v.x, v.y, 0.0);'
    : 'r = second ? vec4(v.z, v.w, 0.0, 0.0) : vec4(v.x, v.y, 0.0, 0.0);'}
}`;
    }
    case 'col': {
      const K = p.K!, Jn = p.Jn!, Nn = p.Nn!;
      const cpg = p.v.C / p.sv.groups;
      const n0 = p.sv.perSample ? idiv('s', p.sv.groups) : '0';
      const gi = p.sv.groups === 1 ? '0' : imod('s', p.sv.groups);
      const oddR = L.R2 % 2 === 1;
      return `
void rec_(int s, int j, out vec4 r) {
  int kr = ${imod('j', K)}; int c = ${gi} * ${cpg} + ${idiv('j', K)};
  int nn = ${n0};
  vec4 v = ${fetch(`(kr * ${Nn} + nn) * ${L.TR} + c / 2`)};
  int lo = nn * ${Jn} + kr * ${p.T}; int hi = min(lo + ${p.T}, nn * ${Jn} + ${Jn});
  float n = float(2 * (hi - lo)${oddR ? ` - (hi / ${L.RP} - lo / ${L.RP})` : ''});
  bool second = c - (c / 2) * 2 == 1;
  ${stats ? 'r = second ? vec4(n, v.z, v.w, 0.0) : vec4(n, v.x, v.y, 0.0);'
    : 'r = second ? vec4(v.z, v.w, 0.0, 0.0) : vec4(v.x, v.y, 0.0, 0.0);'}
}`;
    }
  }
}

function glslCount(n: number): string {
  return `${n}.0`;
}

/** GLSL int expression: flat index of the first element of reduction slot `s`. */
export function firstElementGlsl(p: ReducePlan, s: string): string {
  return slotFirstElement(p.v, p.sv, s);
}
