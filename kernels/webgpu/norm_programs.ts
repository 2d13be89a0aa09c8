/**
 * The WGSL programs behind every kernel (register_all.ts puts them together):
 *
 * - `statsProgram`: per slot, sums of `x − shift` and its square (shift = the slot's first
 *   element), by a workgroup with a tree in workgroup memory or, for many short slots, by one
 *   invocation (`rowScheme`). Output packed `[mean | variance | shift | meanOffset]`, each `[slots]`.
 * - `applyProgram`: elementwise, `act(((x − shift) − mean)·rstd·gamma + beta)`.
 * - `channelReduceProgram` (NCS: one workgroup per channel) and `columnPartialProgram` +
 *   `columnFinishProgram` (NSC: by columns): `[Σdz | Σdz·x̂]`, each `[C]`; the column pair also
 *   gives channels-last BatchNorm's statistics.
 * - `slotReduceProgram`: per slot (as `statsProgram`), `[Σdz·gamma | Σdz·gamma·x̂]`, each `[slots]`;
 *   `slotFromChannelProgram` gets the same from the channel sums when slots do not split samples
 *   (BatchNorm: a slot is a group of channels), without reading the data again.
 * - `slotTableProgram` + `backwardApplyProgram`: elementwise `dx = dz·gamma·rstd + x̂·k1 + k2`.
 */
import type {TensorInfo} from '@tensorflow/tfjs-core';
import type {NormApplyAttrs} from '../../src/kernel_names.js';
import type {NormView} from '../../src/norm_view.js';
import {runProgram, type ProgramSpec, type WebGPUBackendLike} from './program.js';
import {
  activationWgsl, applyUniforms, backwardSourceWgsl, ELEMENTS_PER_INVOCATION, elementwiseBody, presentKey, statsWgsl,
  treeWgsl, viewKey, viewUniforms, viewWgsl, walkerWgsl, type Present,
} from './wgsl.js';
import {lanesApply, lanesBody, lanesKey, lanesUniforms, lanesWgsl} from './lanes.js';

/**
 * Invocations per workgroup of the tree reductions. Small: each invocation then sums a longer
 * stretch on its own, and the tree has fewer barrier steps (costly on SwiftShader's CPU threads).
 */
const REDUCE_WORKGROUP = 64;

/**
 * The strided walk of a reduction without per-element division: invocation `tid` visits
 * elements `j = tid, tid + wg, …` of a row made of blocks of `inner` contiguous elements `stride`
 * apart; `q`/`r` (block, offset) are stepped along. Declares `q`, `r`, `stepQ`, `stepR`.
 */
function walkDecl(wg: number, inner: string): string {
  return `
    let inner = ${inner};
    var q = tid / inner;
    var r = tid % inner;
    let stepQ = ${wg} / inner;
    let stepR = ${wg} % inner;`;
}
/**
 * How a per-row reduction is laid out: one workgroup per row with a tree in workgroup memory,
 * or, for many short rows (≤ 4096 elements, ≥ 128 rows: LayerNorm, GroupNorm, InstanceNorm), one
 * invocation per row summing it alone, which avoids a workgroup and its barriers per short row.
 */
export interface RowScheme {
  short: boolean;
  wg: number;
  dispatch: ProgramSpec['dispatch'];
  /** WGSL declarations (the tree), and the expressions of the row, the invocation and the stride. */
  decl: string;
  row: string;
  tid: string;
  step: number;
  /** Combines `s1`, `s2` of the row's invocations into `t1`, `t2`; `first` guards the write. */
  combine: string;
  first: string;
}

/** `outputsPerRow`: the program writes that many values per row (one invocation per row, not per value). */
export function rowScheme(rows: number, length: number, outputsPerRow: number): RowScheme {
  if (length <= 4096 && rows >= 128) {
    return {short: true, wg: 64, dispatch: {flat: true, workgroup: 64, perInvocation: outputsPerRow}, decl: '', row: 'index', tid: '0', step: 1,
      combine: 'let t1 = s1;\n  let t2 = s2;', first: 'true'};
  }
  const wg = REDUCE_WORKGROUP;
  return {short: false, wg, dispatch: {rows, workgroup: wg}, decl: treeWgsl(wg, 2), row: 'rowIndex()',
    tid: 'i32(localIndex)', step: wg, first: 'tid == 0',
    combine: `partial[tid][0] = s1;
  partial[tid][1] = s2;
  reduceTree(tid);
  let t1 = partial[0][0];
  let t2 = partial[0][1];`};
}

const WALK_STEP = `
      r = r + stepR;
      q = q + stepQ;
      if (r >= inner) { r = r - inner; q = q + 1; }`;

export const FLAT_WORKGROUP = 128;

export function statsProgram(b: WebGPUBackendLike, x: TensorInfo, v: NormView, a: NormApplyAttrs): TensorInfo {
  const k = rowScheme(v.slots, v.count, 4);
  return runProgram(b, {
    key: `stats_${viewKey(a)}${k.short ? '_short' : ''}`,
    inputs: [['x', x]],
    outputSize: 4 * v.slots,
    dispatch: k.dispatch,
    uniforms: viewUniforms(v),
    code: `${viewWgsl(a)}${k.decl}
fn body(index : i32) {
  let row = ${k.row};
  let tid = ${k.tid};
  var s1 = 0.0;
  var s2 = 0.0;
  var shift = 0.0;
  if (row < uniforms.slots) {
    let base = slotBase(row);
    let stride = slotStride();
    shift = x[base];${walkDecl(k.step, 'slotInner()')}
    for (var j = tid; j < uniforms.count; j = j + ${k.step}) {
      let d = x[base + q * stride + r] - shift;
      s1 = s1 + d;
      s2 = s2 + d * d;${WALK_STEP}
    }
  }
  ${k.combine}
  if (${k.first} && row < uniforms.slots) {
    let n = f32(uniforms.count);
    let offset = t1 / n;
    let variance = max(t2 / n - offset * offset, 0.0);
    result[row] = shift + offset;
    result[uniforms.slots + row] = variance;
    result[2 * uniforms.slots + row] = shift;
    result[3 * uniforms.slots + row] = offset;
  }
}`,
  });
}

export interface StatsInputs {
  mean: TensorInfo;
  variance: TensorInfo;
  shift?: TensorInfo;
  gamma?: TensorInfo;
  beta?: TensorInfo;
}

function present(s: StatsInputs): Present {
  return {shift: s.shift !== undefined, gamma: s.gamma !== undefined, beta: s.beta !== undefined};
}

function statsBindings(s: StatsInputs): Array<[string, TensorInfo]> {
  const out: Array<[string, TensorInfo]> = [['mean', s.mean], ['variance', s.variance]];
  if (s.shift) out.push(['shift', s.shift]);
  if (s.gamma) out.push(['gamma', s.gamma]);
  if (s.beta) out.push(['beta', s.beta]);
  return out;
}

export function applyProgram(b: WebGPUBackendLike, x: TensorInfo, s: StatsInputs, v: NormView,
                             a: NormApplyAttrs): TensorInfo {
  const p = present(s);
  const each = 'act(centered(xk, slot) * rstdAt(slot) * gammaAt(c) + betaAt(c))';
  const header = `${viewWgsl(a)}${statsWgsl(p)}${activationWgsl(a.activation)}`;
  return runProgram(b, {
    key: `apply_${viewKey(a)}_${presentKey(p)}_${a.activation}${lanesApply(v) ? lanesKey(v) : ''}`,
    inputs: [['src', x], ...statsBindings(s)],
    outputSize: v.N * v.C * v.S,
    ...elementwise(v, a, header, `
  return ${each};`, false, `
      let xk = src[i];
      result[i] = ${each};`),
  });
}

/**
 * The dispatch, uniforms and code of an elementwise program: four elements per vector
 * (lanes.ts) where the layout allows, else `ELEMENTS_PER_INVOCATION` scalars per invocation
 * stepped through by the walker. `header` has the view's WGSL (viewWgsl) and the helpers; `lane` is the body of `lane(xk, dyk, c, slot) -> f32`; `each`
 * writes `result[i]` from `xk = src[i]` in the scalar form.
 */
function elementwise(v: NormView, a: NormApplyAttrs, header: string, lane: string, withDy: boolean, each: string):
    Pick<ProgramSpec, 'dispatch' | 'uniforms' | 'code' | 'vec4Inputs'> {
  if (lanesApply(v)) {
    return {dispatch: {flat: true, workgroup: FLAT_WORKGROUP, perInvocation: 4},
      uniforms: [...applyUniforms(v, a), ...lanesUniforms(v)], vec4Inputs: withDy ? ['src', 'dy'] : ['src'],
      code: `${lanesWgsl(a, v)}${header}${lanesBody(lane, withDy)}`};
  }
  return {dispatch: {flat: true, workgroup: FLAT_WORKGROUP, perInvocation: ELEMENTS_PER_INVOCATION},
    uniforms: applyUniforms(v, a), code: `${header}${walkerWgsl(a)}${elementwiseBody(each)}`};
}

/** The backward programs' source: `x` with its statistics, or In-Place ABN's output `y`. */
export interface BackwardSource {
  src: TensorInfo;
  fromOutput: boolean;
}

function backwardInputs(dy: TensorInfo | undefined, src: BackwardSource, s: StatsInputs): Array<[string, TensorInfo]> {
  return [...(dy ? [['dy', dy] as [string, TensorInfo]] : []), ['src', src.src], ...statsBindings(s)];
}

function backwardHeader(src: BackwardSource, s: StatsInputs, a: NormApplyAttrs, table = false): string {
  return `${viewWgsl(a)}${statsWgsl(present(s), table)}${activationWgsl(a.activation)}${
    backwardSourceWgsl(src.fromOutput, a.activation === 'linear')}`;
}

function backwardKey(src: BackwardSource, s: StatsInputs, a: NormApplyAttrs): string {
  return `${viewKey(a)}_${presentKey(present(s))}_${a.activation}_${src.fromOutput ? 'y' : 'x'}`;
}

export function channelReduceProgram(b: WebGPUBackendLike, dy: TensorInfo, src: BackwardSource, s: StatsInputs,
                                     v: NormView, a: NormApplyAttrs): TensorInfo {
  const wg = REDUCE_WORKGROUP;
  return runProgram(b, {
    key: `chanreduce_${backwardKey(src, s, a)}`,
    inputs: backwardInputs(dy, src, s),
    outputSize: 2 * v.C,
    dispatch: {rows: v.C, workgroup: wg},
    uniforms: applyUniforms(v, a),
    code: `${backwardHeader(src, s, a)}${treeWgsl(wg, 2)}
fn body(index : i32) {
  let c = rowIndex();
  let tid = i32(localIndex);
  var s1 = 0.0;
  var s2 = 0.0;
  if (c < uniforms.C) {
    let total = uniforms.N * uniforms.S;
    let stride = uniforms.C * uniforms.S;
    let base = c * uniforms.S;${walkDecl(wg, 'uniforms.S')}
    for (var j = tid; j < total; j = j + ${wg}) {
      let i = base + q * stride + r;
      let g = grads(src[i], c, slotOf(q, c), dy[i]);
      s1 = s1 + g.x;
      s2 = s2 + g.x * g.y;${WALK_STEP}
    }
  }
  partial[tid][0] = s1;
  partial[tid][1] = s2;
  reduceTree(tid);
  if (tid == 0 && c < uniforms.C) {
    result[c] = partial[0][0];
    result[uniforms.C + c] = partial[0][1];
  }
}`,
  });
}

export function slotReduceProgram(b: WebGPUBackendLike, dy: TensorInfo, src: BackwardSource, s: StatsInputs,
                                  v: NormView, a: NormApplyAttrs): TensorInfo {
  const k = rowScheme(v.slots, v.count, 2);
  return runProgram(b, {
    key: `slotreduce_${backwardKey(src, s, a)}${k.short ? '_short' : ''}`,
    inputs: backwardInputs(dy, src, s),
    outputSize: 2 * v.slots,
    dispatch: k.dispatch,
    uniforms: applyUniforms(v, a),
    code: `${backwardHeader(src, s, a)}${k.decl}
fn body(index : i32) {
  let slot = ${k.row};
  let tid = ${k.tid};
  var s1 = 0.0;
  var s2 = 0.0;
  if (slot < uniforms.slots) {
    let base = slotBase(slot);
    let stride = slotStride();
    let c0 = (slot % uniforms.groups) * uniforms.cpg;${walkDecl(k.step, 'slotInner()')}
    for (var j = tid; j < uniforms.count; j = j + ${k.step}) {
      let i = base + q * stride + r;
      let c = c0 + ${a.layout === 'NSC' ? 'r' : 'r / uniforms.S'};
      let g = grads(src[i], c, slot, dy[i]);
      let dzg = g.x * gammaAt(c);
      s1 = s1 + dzg;
      s2 = s2 + dzg * g.y;${WALK_STEP}
    }
  }
  ${k.combine}
  if (${k.first} && slot < uniforms.slots) {
    result[slot] = t1;
    result[uniforms.slots + slot] = t2;
  }
}`,
  });
}

/** Slot sums from channel sums when every slot is a group of whole channels (not per sample). */
export function slotFromChannelProgram(b: WebGPUBackendLike, chan: TensorInfo, gamma: TensorInfo | undefined,
                                       v: NormView): TensorInfo {
  const g = gamma !== undefined;
  return runProgram(b, {
    key: `slotfromchan_${g ? 'g' : ''}`,
    inputs: [['chan', chan], ...(g ? [['gamma', gamma] as [string, TensorInfo]] : [])],
    outputSize: 2 * v.slots,
    dispatch: {flat: true, workgroup: 64},
    uniforms: viewUniforms(v),
    code: `
fn body(index : i32) {
  if (index < uniforms.size) {
    let which = index / uniforms.slots;
    let slot = index % uniforms.slots;
    var sum = 0.0;
    for (var k = 0; k < uniforms.cpg; k++) {
      let c = slot * uniforms.cpg + k;
      sum = sum + chan[which * uniforms.C + c]${g ? ' * gamma[c]' : ''};
    }
    result[index] = sum;
  }
}`,
  });
}

export interface BackwardApplyExtras {
  dy?: TensorInfo;
  slotSumDzGamma?: TensorInfo;
  slotSumDzGammaXhat?: TensorInfo;
  dMean?: TensorInfo;
  dVariance?: TensorInfo;
  training: boolean;
  count: number;
}

/**
 * Per slot, packed by rows: `shift` (0 without one), `mean`, `rstd`, and the training
 * coefficients `k1 = (−rstd·slotSumDzGammaXhat + 2·dVariance/rstd) / count`,
 * `k2 = (−rstd·slotSumDzGamma + dMean) / count` (absent inputs are 0; both 0 in inference).
 */
export function slotTableProgram(b: WebGPUBackendLike, s: StatsInputs, e: BackwardApplyExtras, v: NormView,
                                 a: NormApplyAttrs): TensorInfo {
  const opt: Array<[string, TensorInfo | undefined]> = [['shift', s.shift], ...(e.training ?
    [['ssg', e.slotSumDzGamma], ['ssgx', e.slotSumDzGammaXhat], ['dMean', e.dMean], ['dVariance', e.dVariance]] as
      Array<[string, TensorInfo | undefined]> : [])];
  const extra = opt.filter((o): o is [string, TensorInfo] => o[1] !== undefined);
  const at = (n: string) => (extra.some(([m]) => m === n) ? `${n}[slot]` : '0.0');
  return runProgram(b, {
    key: `slottable_${e.training ? 't' : ''}${extra.map(([n]) => n).join('')}`,
    inputs: [['mean', s.mean], ['variance', s.variance], ...extra],
    outputSize: 5 * v.slots,
    dispatch: {flat: true, workgroup: 64},
    uniforms: [...applyUniforms(v, a), ['countAttr', 'f32', e.count]],
    code: `
fn body(index : i32) {
  let slot = index;
  if (slot < uniforms.slots) {
    let n = uniforms.slots;
    let rstd = inverseSqrt(variance[slot] + uniforms.epsilon);
    result[slot] = ${at('shift')};
    result[n + slot] = mean[slot];
    result[2 * n + slot] = rstd;
    result[3 * n + slot] = (-rstd * ${at('ssgx')} + 2.0 * ${at('dVariance')} / rstd) / uniforms.countAttr;
    result[4 * n + slot] = (-rstd * ${at('ssg')} + ${at('dMean')}) / uniforms.countAttr;
  }
}`,
  });
}

/** `dx = dz·gamma·rstd + x̂·k1 + k2` per element, with the slot table of `slotTableProgram`. */
export function backwardApplyProgram(b: WebGPUBackendLike, src: BackwardSource, s: StatsInputs, dy: TensorInfo | undefined,
                                     table: TensorInfo, v: NormView, a: NormApplyAttrs): TensorInfo {
  const p = present(s);
  const params: Array<[string, TensorInfo]> = [];
  if (s.gamma) params.push(['gamma', s.gamma]);
  if (s.beta) params.push(['beta', s.beta]);
  const dx = (xv: string, dyv: string) => `
  let n = uniforms.slots;
  let g = grads(${xv}, c, slot, ${dyv});
  return g.x * gammaAt(c) * table[2 * n + slot] + g.y * table[3 * n + slot] + table[4 * n + slot];`;
  return runProgram(b, {
    key: `bwdapply_${viewKey(a)}_${presentKey(p)}_${a.activation}_${src.fromOutput ? 'y' : 'x'}_${dy ? 'd' : ''}${
      lanesApply(v) ? lanesKey(v) : ''}`,
    inputs: [...(dy ? [['dy', dy] as [string, TensorInfo]] : []), ['src', src.src], ['table', table], ...params],
    outputSize: v.N * v.C * v.S,
    ...elementwise(v, a, `${backwardHeader(src, s, a, true)}
fn dxOf(xk : f32, dyk : f32, c : i32, slot : i32) -> f32 {${dx('xk', 'dyk')}
}`, `
  return dxOf(xk, dyk, c, slot);`, dy !== undefined, `
      result[i] = dxOf(src[i], ${dy ? 'dy[i]' : '0.0'}, c, slot);`),
  });
}

/**
 * Channels-last (`NSC`) per-channel sums in two stages, reading `x` as the `[N·S, C]` matrix it is
 * in memory: a workgroup covers 64 adjacent channels (one invocation each, adjacent addresses)
 * over one block of rows, writing partial sums `[2][blocks][C]`; `columnFinishProgram` adds the
 * blocks up. One workgroup per channel would instead stride through all of memory once per channel.
 */
export const COLUMN_WORKGROUP = 64;

export function rowBlocks(rows: number): number {
  return Math.max(1, Math.min(64, Math.ceil(rows / 256)));
}

export type ColumnKind = {stats: true} | {stats: false; dy: TensorInfo; src: BackwardSource; s: StatsInputs};

export function columnPartialProgram(b: WebGPUBackendLike, x: TensorInfo, kind: ColumnKind, v: NormView,
                                     a: NormApplyAttrs): TensorInfo {
  const rows = v.N * v.S;
  const blocks = rowBlocks(rows);
  const channelBlocks = Math.ceil(v.C / COLUMN_WORKGROUP);
  const element = kind.stats ? `
      let d = x[i] - x[c];
      s1 = s1 + d;
      s2 = s2 + d * d;` : `
      let g = grads(src[i], c, slotOf(m / uniforms.S, c), dy[i]);
      s1 = s1 + g.x;
      s2 = s2 + g.x * g.y;`;
  return runProgram(b, {
    key: kind.stats ? `colstats` : `colgrads_${backwardKey(kind.src, kind.s, a)}`,
    inputs: kind.stats ? [['x', x]] : backwardInputs(kind.dy, kind.src, kind.s),
    outputSize: 2 * blocks * v.C,
    dispatch: {rows: channelBlocks * blocks, workgroup: COLUMN_WORKGROUP},
    uniforms: [...applyUniforms(v, a), ['blocks', 'i32', blocks], ['channelBlocks', 'i32', channelBlocks]],
    code: `${kind.stats ? '' : backwardHeader(kind.src, kind.s, a)}
fn rowIndex() -> i32 {
  return i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x);
}
fn body(index : i32) {
  let w = rowIndex();
  let block = w / uniforms.channelBlocks;
  let c = (w % uniforms.channelBlocks) * ${COLUMN_WORKGROUP} + i32(localIndex);
  let rows = uniforms.N * uniforms.S;
  let chunk = (rows + uniforms.blocks - 1) / uniforms.blocks;
  if (c < uniforms.C && block < uniforms.blocks) {
    var s1 = 0.0;
    var s2 = 0.0;
    for (var m = block * chunk; m < min(rows, (block + 1) * chunk); m++) {
      let i = m * uniforms.C + c;${element}
    }
    result[block * uniforms.C + c] = s1;
    result[(uniforms.blocks + block) * uniforms.C + c] = s2;
  }
}`,
  });
}

/**
 * Adds up the blocks of `columnPartialProgram`: `[Σdz | Σdz·x̂]` per channel, or (stats, one slot
 * per channel) the packed `[mean | variance | shift | meanOffset]` of `statsProgram`.
 */
export function columnFinishProgram(b: WebGPUBackendLike, partial: TensorInfo, x: TensorInfo | null,
                                    v: NormView): TensorInfo {
  const blocks = rowBlocks(v.N * v.S);
  const finish = x !== null ? `
    let n = f32(uniforms.count);
    let offset = s1 / n;
    result[c] = x[c] + offset;
    result[uniforms.C + c] = max(s2 / n - offset * offset, 0.0);
    result[2 * uniforms.C + c] = x[c];
    result[3 * uniforms.C + c] = offset;` : `
    result[c] = s1;
    result[uniforms.C + c] = s2;`;
  return runProgram(b, {
    key: `colfinish_${x !== null ? 'stats' : 'grads'}`,
    inputs: [['partial', partial], ...(x !== null ? [['x', x] as [string, TensorInfo]] : [])],
    outputSize: (x !== null ? 4 : 2) * v.C,
    dispatch: {flat: true, workgroup: 64},
    uniforms: [...viewUniforms(v), ['blocks', 'i32', blocks]],
    code: `
fn body(index : i32) {
  let c = index;
  if (c < uniforms.C) {
    var s1 = 0.0;
    var s2 = 0.0;
    for (var k = 0; k < uniforms.blocks; k++) {
      s1 = s1 + partial[k * uniforms.C + c];
      s2 = s2 + partial[(uniforms.blocks + k) * uniforms.C + c];
    }${finish}
  }
}`,
  });
}
