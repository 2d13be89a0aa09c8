/**
 * The webgl kernels' bodies: each one prepares packed inputs and tables, runs the reduction
 * and elementwise programs, and returns TensorInfos (the big outputs packed in the input's
 * layout, the small ones as views of one unpacked table).
 */
import type {TensorInfo} from '@tensorflow/tfjs-core';
import type {NormApplyAttrs} from '../../src/kernel_names.js';
import {normView, type NormView} from '../../src/norm_view.js';
import type {BackwardInputs} from '../composite/norm_composite.js';
import {ApplyProgram, BackwardApplyProgram, type ElementwiseSpec} from './apply_programs.js';
import {gridFor, run, Scratch, splitTable, type Grid, type WebGLBackend} from './backend_util.js';
import {flat, outputLayout, packedInputs, type PackedInput, type PackedLayout, type SlotView} from './layout.js';
import {MERGE_CHUNK, MERGE_MAX, planReduction, singlePlan} from './reduce_plan.js';
import {MergeProgram, ReducePartialsProgram, type MergeOutput, type SumsSpec} from './reduce_programs.js';
import {
  ChannelTableProgram, SlotSumsProgram, SlotTableProgram, SumsOutputProgram, UserStatsProgram,
  type SlotTableOptions, type SumsSource,
} from './table_programs.js';
import {channelGrid, foldable, slotGrid} from './tables.js';

interface Table {info: TensorInfo; grid: Grid}
/** A slot table, and whether γ and β are folded into it. */
interface SlotTable extends Table {folded: boolean}

function texels(g: Grid): [number, number] {
  return [g.h, g.w];
}

function channelTable(b: WebGLBackend, sc: Scratch, C: number, gamma?: TensorInfo, beta?: TensorInfo): Table {
  const grid = channelGrid(C);
  const inputs = [gamma, beta].filter((t): t is TensorInfo => t !== undefined).map((t) => flat(b, t, sc));
  const info = sc.add(run(b, new ChannelTableProgram(C, grid, gamma !== undefined, beta !== undefined), inputs, texels(grid)));
  return {info, grid};
}

interface SlotInputs {
  variance: TensorInfo;
  mean?: TensorInfo;
  shift?: TensorInfo;
  sg?: TensorInfo;
  sgx?: TensorInfo;
  dMean?: TensorInfo;
  dVariance?: TensorInfo;
}

interface SlotTableParams {
  v: NormView;
  epsilon: number;
  training: boolean;
  count: number;
  fromOutput: boolean;
  /** Fold these (1-D) into the table when the view allows it. */
  gamma?: TensorInfo;
  beta?: TensorInfo;
}

function slotTable(b: WebGLBackend, sc: Scratch, ins: SlotInputs, q: SlotTableParams): SlotTable {
  const {v} = q;
  const grid = slotGrid(v.slots);
  const folded = foldable(v, q.fromOutput);
  const o: SlotTableOptions = {
    slots: v.slots, grid, epsilon: q.epsilon, training: q.training, count: q.count, hasMean: ins.mean !== undefined,
    hasShift: ins.shift !== undefined, hasSums: ins.sg !== undefined && ins.sgx !== undefined,
    hasDMean: ins.dMean !== undefined, hasDVariance: ins.dVariance !== undefined, folded,
    hasGamma: q.gamma !== undefined, hasBeta: q.beta !== undefined, fromOutput: q.fromOutput, C: v.C,
  };
  const inputs = [ins.variance];
  if (o.hasMean) inputs.push(ins.mean!);
  if (o.hasShift) inputs.push(ins.shift!);
  if (o.hasSums) inputs.push(ins.sg!, ins.sgx!);
  if (o.hasDMean) inputs.push(ins.dMean!);
  if (o.hasDVariance) inputs.push(ins.dVariance!);
  if (folded && o.hasGamma) inputs.push(q.gamma!);
  if (folded && o.hasBeta) inputs.push(q.beta!);
  const info = sc.add(run(b, new SlotTableProgram(o), inputs.map((t) => flat(b, t, sc)), texels(grid)));
  return {info, grid, folded};
}

/**
 * Stage 1 then merges until one fragment per slot can finish: statistics into the slot table,
 * sums into a table of (a, b) per reduction slot.
 */
function reduce(b: WebGLBackend, sc: Scratch, L: PackedLayout, v: NormView, sv: SlotView,
                stage1Inputs: TensorInfo[], sums: SumsSpec | null, dyLayout: PackedLayout | undefined,
                epsilon: number, ct?: Table): SlotTable {
  let plan = planReduction(L, v, sv);
  const stats = sums === null;
  let partials = sc.add(run(b, new ReducePartialsProgram(plan, sums, dyLayout), stage1Inputs, texels(plan.grid)));
  while (plan.perSlot > MERGE_MAX) {
    const next = singlePlan(plan, MERGE_CHUNK);
    partials = sc.add(run(b, new MergeProgram(plan, stats, {kind: 'records', grid: next.grid}, MERGE_CHUNK),
      [partials], texels(next.grid)));
    plan = next;
  }
  // The statistics' table folds γ and β when given a channel table and the view allows it.
  const folded = stats && ct !== undefined && foldable(v, false);
  const grid = stats ? slotGrid(plan.slots) : gridFor(plan.slots);
  const out: MergeOutput = stats
    ? {kind: 'slotTable', grid, epsilon, folded, C: v.C, ctGrid: ct?.grid ?? grid} : {kind: 'sumTable', grid};
  const x = stage1Inputs[stats ? 0 : 1];
  const inputs = stats ? (folded ? [partials, x, ct!.info] : [partials, x]) : [partials];
  const info = sc.add(run(b, new MergeProgram(plan, stats, out, Math.max(1, plan.perSlot), stats ? L : undefined),
    inputs, texels(grid)));
  return {info, grid, folded};
}

function userStats(b: WebGLBackend, sc: Scratch, st: Table, slots: number): TensorInfo[] {
  const table = sc.add(run(b, new UserStatsProgram(slots, st.grid), [st.info]));
  return splitTable(b, table, [[slots], [slots], [slots], [slots]]);
}

function elementwise(xL: PackedLayout, v: NormView, ct: Table, st: SlotTable, a: NormApplyAttrs): ElementwiseSpec {
  const L = outputLayout(xL.shape);
  return {L, xL, v, ctGrid: ct.grid, stGrid: st.grid, folded: st.folded, activation: a.activation, alpha: a.alpha};
}

function output(info: TensorInfo, shape: number[]): TensorInfo {
  return {dataId: info.dataId, shape, dtype: info.dtype};
}

function runApply(b: WebGLBackend, xp: PackedInput, v: NormView, ct: Table, st: SlotTable, a: NormApplyAttrs,
                  shape: number[]): TensorInfo {
  const spec = elementwise(xp.layout, v, ct, st, a);
  const y = run(b, new ApplyProgram(spec), [xp.info, ct.info, st.info], [spec.L.texH, spec.L.texW]);
  return output(y, shape);
}

function withScratch<T>(b: WebGLBackend, f: (sc: Scratch) => T): T {
  const sc = new Scratch(b);
  try {
    return f(sc);
  } finally {
    sc.dispose();
  }
}

export function momentsWebGL(b: WebGLBackend, {x}: {x: TensorInfo}, a: NormApplyAttrs): TensorInfo[] {
  return withScratch(b, (sc) => {
    const v = normView(x.shape, a);
    const [xp] = packedInputs(b, [x], sc);
    const st = reduce(b, sc, xp.layout, v, v, [xp.info], null, undefined, 1);
    return userStats(b, sc, st, v.slots);
  });
}

export function normalizeTrainingWebGL(b: WebGLBackend,
                                       {x, gamma, beta}: {x: TensorInfo; gamma?: TensorInfo; beta?: TensorInfo},
                                       a: NormApplyAttrs): TensorInfo[] {
  return withScratch(b, (sc) => {
    const v = normView(x.shape, a);
    const [xp] = packedInputs(b, [x], sc);
    const ct = channelTable(b, sc, v.C, gamma, beta);
    const st = reduce(b, sc, xp.layout, v, v, [xp.info], null, undefined, a.epsilon, ct);
    const y = runApply(b, xp, v, ct, st, a, x.shape);
    return [y, ...userStats(b, sc, st, v.slots)];
  });
}

export function applyWebGL(b: WebGLBackend, ins: {x: TensorInfo; mean: TensorInfo; variance: TensorInfo;
  gamma?: TensorInfo; beta?: TensorInfo; shift?: TensorInfo}, a: NormApplyAttrs): TensorInfo {
  return withScratch(b, (sc) => {
    const v = normView(ins.x.shape, a);
    const [xp] = packedInputs(b, [ins.x], sc);
    const ct = channelTable(b, sc, v.C, ins.gamma, ins.beta);
    const st = slotTable(b, sc, {variance: ins.variance, mean: ins.mean, shift: ins.shift},
      {v, epsilon: a.epsilon, training: false, count: 1, fromOutput: false, gamma: ins.gamma, beta: ins.beta});
    return runApply(b, xp, v, ct, st, a, ins.x.shape);
  });
}

function source(ins: BackwardInputs): {src: TensorInfo; fromOutput: boolean} {
  const src = ins.x ?? ins.y;
  if (src === undefined) throw new Error('tfjs-norms backward kernels need x or y');
  return {src, fromOutput: ins.x === undefined};
}

/**
 * The backward sums: per channel when no slot is per sample (BatchNorm); per (sample, channel)
 * cell when the spatial block is long enough (GroupNorm, InstanceNorm); otherwise separate
 * γ-weighted per-slot and per-channel reductions (LayerNorm, where a cell is one element).
 */
function backwardSums(b: WebGLBackend, sc: Scratch, v: NormView, srcP: PackedInput, dyP: PackedInput,
                      ct: Table, st: SlotTable, a: NormApplyAttrs, fromOutput: boolean): SumsSource {
  const spec = (weighted: boolean): SumsSpec => ({activation: a.activation, alpha: a.alpha, fromOutput, weighted,
    ctGrid: ct.grid, stGrid: st.grid, C: v.C, normSlots: v.slots});
  const inputs = [dyP.info, srcP.info, ct.info, st.info];
  const red = (sv: SlotView, weighted: boolean) =>
    reduce(b, sc, srcP.layout, v, sv, inputs, spec(weighted), dyP.layout, 0);
  const common = {C: v.C, N: v.N, groups: v.groups, ctGrid: ct.grid};
  if (!v.perSample) {
    const ch = red({groups: v.C, perSample: false}, false);
    return {kind: 'channel', tables: [{name: 'ch', ...ch}], ...common};
  }
  if (v.S >= 8) {
    const ce = red({groups: v.C, perSample: true}, false);
    return {kind: 'cell', tables: [{name: 'ce', ...ce}], ...common};
  }
  const sl = red({groups: v.groups, perSample: true}, true);
  const ch = red({groups: v.C, perSample: false}, false);
  return {kind: 'separate', tables: [{name: 'sl', ...sl}, {name: 'ch', ...ch}], ...common};
}

function tableInfos(src: SumsSource): TensorInfo[] {
  return src.tables.map((t) => t.info);
}

export function backwardReduceWebGL(b: WebGLBackend, ins: BackwardInputs, a: NormApplyAttrs): TensorInfo[] {
  return withScratch(b, (sc) => {
    const {src, fromOutput} = source(ins);
    const v = normView(src.shape, a);
    const [srcP, dyP] = packedInputs(b, [src, ins.dy!], sc);
    const ct = channelTable(b, sc, v.C, ins.gamma, ins.beta);
    const st = slotTable(b, sc, {variance: ins.variance, mean: fromOutput ? undefined : ins.mean,
      shift: fromOutput ? undefined : ins.shift}, {v, epsilon: a.epsilon, training: false, count: 1, fromOutput});
    const sums = backwardSums(b, sc, v, srcP, dyP, ct, st, a, fromOutput);
    const table = sc.add(run(b, new SumsOutputProgram(sums, v.slots), [ct.info, ...tableInfos(sums)]));
    return splitTable(b, table, [[v.C], [v.C], [v.slots], [v.slots]]);
  });
}

function runBackwardApply(b: WebGLBackend, srcP: PackedInput, dyP: PackedInput | null, v: NormView, ct: Table,
                          st: SlotTable, a: NormApplyAttrs, fromOutput: boolean, shape: number[]): TensorInfo {
  const spec = elementwise(srcP.layout, v, ct, st, a);
  const prog = new BackwardApplyProgram(spec, fromOutput, dyP ? dyP.layout : null);
  const inputs = [srcP.info, ct.info, st.info];
  if (dyP) inputs.push(dyP.info);
  return output(run(b, prog, inputs, [spec.L.texH, spec.L.texW]), shape);
}

export function backwardApplyWebGL(b: WebGLBackend, ins: BackwardInputs,
                                   a: NormApplyAttrs & {training: boolean; count: number}): TensorInfo {
  return withScratch(b, (sc) => {
    const {src, fromOutput} = source(ins);
    const v = normView(src.shape, a);
    const big = ins.dy ? packedInputs(b, [src, ins.dy], sc) : packedInputs(b, [src], sc);
    const ct = channelTable(b, sc, v.C, ins.gamma, ins.beta);
    const st = slotTable(b, sc, {
      variance: ins.variance, mean: fromOutput ? undefined : ins.mean, shift: fromOutput ? undefined : ins.shift,
      sg: a.training ? ins.slotSumDzGamma : undefined, sgx: a.training ? ins.slotSumDzGammaXhat : undefined,
      dMean: a.training ? ins.dMean : undefined, dVariance: a.training ? ins.dVariance : undefined,
    }, {v, epsilon: a.epsilon, training: a.training, count: a.count, fromOutput, gamma: ins.gamma, beta: ins.beta});
    return runBackwardApply(b, big[0], big[1] ?? null, v, ct, st, a, fromOutput, src.shape);
  });
}

export function backwardTrainingWebGL(b: WebGLBackend, ins: BackwardInputs, a: NormApplyAttrs): TensorInfo[] {
  return withScratch(b, (sc) => {
    const {src, fromOutput} = source(ins);
    const v = normView(src.shape, a);
    const [srcP, dyP] = packedInputs(b, [src, ins.dy!], sc);
    const ct = channelTable(b, sc, v.C, ins.gamma, ins.beta);
    const st0 = slotTable(b, sc, {
      variance: ins.variance, mean: fromOutput ? undefined : ins.mean, shift: fromOutput ? undefined : ins.shift,
      dMean: ins.dMean, dVariance: ins.dVariance,
    }, {v, epsilon: a.epsilon, training: true, count: v.count, fromOutput, gamma: ins.gamma, beta: ins.beta});
    const sums = backwardSums(b, sc, v, srcP, dyP, ct, st0, a, fromOutput);
    const st: SlotTable = {grid: st0.grid, folded: st0.folded, info: sc.add(run(b,
      new SlotSumsProgram(sums, v.slots, st0.grid, v.count, fromOutput), [st0.info, ct.info, ...tableInfos(sums)],
      texels(st0.grid)))};
    const dx = runBackwardApply(b, srcP, dyP, v, ct, st, a, fromOutput, src.shape);
    const table = sc.add(run(b, new SumsOutputProgram(sums, 0), [ct.info, ...tableInfos(sums)]));
    return [dx, ...splitTable(b, table, [[v.C], [v.C]])];
  });
}
