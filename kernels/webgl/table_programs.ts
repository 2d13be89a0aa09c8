/**
 * Small programs over per-channel and per-slot values: the tables the big passes read (one
 * texel per entry, so a texel fetch brings every value an element needs) and the unpacked
 * tables whose pieces become the kernels' small outputs.
 *
 * Channel table: texel c = (γ, β, 1/γ, 0). Slot table: two texels per slot, 2s = (shift,
 * meanOffset, rstd, variance) with x̂ = ((x − shift) − meanOffset)·rstd, and 2s+1 = (k1, k2, 0, 0)
 * of the backward apply (`dx = dz·γ·rstd + x̂·k1 + k2`).
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import type {TensorInfo} from '@tensorflow/tfjs-core';
import {GLSL_COMMON, glslFloat, gridFetch, gridIndex, gridShape, type Grid} from './backend_util.js';

/** γ, β (1-D views, either may be absent: 1 and 0) into the channel table. Tfjs samplers. */
export class ChannelTableProgram implements GPGPUProgram {
  variableNames: string[] = [];
  outputShape: number[];
  packedOutput = true;
  userCode: string;

  constructor(C: number, grid: Grid, hasGamma: boolean, hasBeta: boolean) {
    if (hasGamma) this.variableNames.push('gamma');
    if (hasBeta) this.variableNames.push('beta');
    this.outputShape = gridShape(grid);
    this.userCode = `
void main() {
  int c = ${gridIndex(grid)};
  if (c >= ${C}) { setOutput(vec4(0.0)); return; }
  float g = ${hasGamma ? 'getGamma(c)' : '1.0'};
  float b = ${hasBeta ? 'getBeta(c)' : '0.0'};
  setOutput(vec4(g, b, 1.0 / g, 0.0));
}`;
  }
}

export interface SlotTableOptions {
  slots: number;
  grid: Grid;
  epsilon: number;
  /** Inputs present, in this order after `variance`: mean, shift, sg, sgx, dMean, dVariance. */
  hasMean: boolean;
  hasShift: boolean;
  hasSums: boolean;
  hasDMean: boolean;
  hasDVariance: boolean;
  training: boolean;
  count: number;
}

export function slotTableInputNames(o: SlotTableOptions): string[] {
  const names = ['variance'];
  if (o.hasMean) names.push('mean');
  if (o.hasShift) names.push('shift');
  if (o.hasSums) names.push('sg', 'sgx');
  if (o.hasDMean) names.push('dm');
  if (o.hasDVariance) names.push('dv');
  return names;
}

/**
 * The slot table from statistics tensors (and, for the backward apply, the slot sums and the
 * upstream gradients of mean and variance; absent ones count as zero). Tfjs samplers.
 */
export class SlotTableProgram implements GPGPUProgram {
  variableNames: string[];
  outputShape: number[];
  packedOutput = true;
  userCode: string;

  constructor(o: SlotTableOptions) {
    this.variableNames = slotTableInputNames(o);
    this.outputShape = gridShape(o.grid);
    const mean = o.hasMean ? 'getMean(s)' : '0.0';
    const first = o.hasShift ? `vec4(getShift(s), ${mean}, rstd, variance)` : `vec4(${mean}, 0.0, rstd, variance)`;
    const count = glslFloat(o.count);
    const sg = o.hasSums ? 'getSg(s)' : '0.0';
    const sgx = o.hasSums ? 'getSgx(s)' : '0.0';
    const dm = o.hasDMean ? 'getDm(s)' : '0.0';
    const dv = o.hasDVariance ? 'getDv(s)' : '0.0';
    const second = o.training
      ? `vec4((-rstd * ${sgx} + 2.0 * ${dv} * sqrt(variance + ${glslFloat(o.epsilon)})) / ${count}, (-rstd * ${sg} + ${dm}) / ${count}, 0.0, 0.0)`
      : 'vec4(0.0)';
    this.userCode = `
void main() {
  int q = ${gridIndex(o.grid)};
  if (q >= ${2 * o.slots}) { setOutput(vec4(0.0)); return; }
  int s = q / 2;
  float variance = getVariance(s);
  float rstd = 1.0 / sqrt(variance + ${glslFloat(o.epsilon)});
  if (q - s * 2 == 0) {
    setOutput(${first});
  } else {
    setOutput(${second});
  }
}`;
  }
}

/** Slot table → unpacked `[mean, variance, shift, meanOffset]`, each `slots` long. */
export class UserStatsProgram implements GPGPUProgram {
  variableNames = ['st'];
  outputShape: number[];
  packedInputs = true;
  userCode: string;

  constructor(slots: number, stGrid: Grid) {
    this.outputShape = [4 * slots];
    this.userCode = `
void main() {
  int i = getOutputCoords();
  int k = i / ${slots}; int s = i - k * ${slots};
  vec4 t = ${gridFetch('st', stGrid, '2 * s')};
  setOutput(k == 0 ? t.x + t.y : k == 1 ? t.w : k == 2 ? t.x : t.y);
}`;
  }
}

/**
 * Where the backward sums come from: per-channel sums (BatchNorm), per-(sample, channel) cells
 * (GroupNorm, InstanceNorm), or separate per-slot (γ-weighted) and per-channel tables (LayerNorm).
 */
export interface SumsSource {
  kind: 'channel' | 'cell' | 'separate';
  /** Table input names and grids, in the order the programs take them (after their own inputs). */
  tables: Array<{name: string; grid: Grid; info: TensorInfo}>;
  C: number;
  N: number;
  groups: number;
  ctGrid: Grid;
}

function sumsGlsl(src: SumsSource): string {
  const grid = (name: string) => src.tables.find((t) => t.name === name)!.grid;
  const cpg = src.C / src.groups;
  const ct = (c: string) => gridFetch('ct', src.ctGrid, c);
  switch (src.kind) {
    case 'channel':
      return `
vec2 chanSums_(int c) { return ${gridFetch('ch', grid('ch'), 'c')}.xy; }
vec2 slotSums_(int s) {
  vec2 r = vec2(0.0);
  for (int i = 0; i < ${cpg}; i++) { int c = s * ${cpg} + i; r += ${ct('c')}.x * chanSums_(c); }
  return r;
}`;
    case 'cell':
      return `
vec2 cell_(int n, int c) { return ${gridFetch('ce', grid('ce'), `n * ${src.C} + c`)}.xy; }
vec2 chanSums_(int c) {
  vec2 r = vec2(0.0);
  for (int n = 0; n < ${src.N}; n++) r += cell_(n, c);
  return r;
}
vec2 slotSums_(int s) {
  int n = s / ${src.groups}; int g = s - n * ${src.groups};
  vec2 r = vec2(0.0);
  for (int i = 0; i < ${cpg}; i++) { int c = g * ${cpg} + i; r += ${ct('c')}.x * cell_(n, c); }
  return r;
}`;
    default:
      return `
vec2 chanSums_(int c) { return ${gridFetch('ch', grid('ch'), 'c')}.xy; }
vec2 slotSums_(int s) { return ${gridFetch('sl', grid('sl'), 's')}.xy; }`;
  }
}

/** Unpacked `[sumDz (C), sumDzXhat (C)]`, and with `slots` also `[slotSumDzGamma, slotSumDzGammaXhat]`. */
export class SumsOutputProgram implements GPGPUProgram {
  variableNames: string[];
  outputShape: number[];
  packedInputs = true;
  userCode: string;

  constructor(src: SumsSource, slots: number) {
    this.variableNames = ['ct', ...src.tables.map((t) => t.name)];
    const C = src.C;
    this.outputShape = [2 * C + 2 * slots];
    this.userCode = `
${GLSL_COMMON}
${sumsGlsl(src)}
void main() {
  int i = getOutputCoords();
  if (i < ${2 * C}) {
    int k = i / ${C};
    vec2 r = chanSums_(i - k * ${C});
    setOutput(k == 0 ? r.x : r.y);
  } else {
    int j = i - ${2 * C}; int k = j / ${Math.max(slots, 1)};
    vec2 r = slotSums_(j - k * ${Math.max(slots, 1)});
    setOutput(k == 0 ? r.x : r.y);
  }
}`;
  }
}

/** The slot table with the slot sums folded into (k1, k2): `k1 −= rstd·Σdzγx̂/count`, `k2 −= rstd·Σdzγ/count`. */
export class SlotSumsProgram implements GPGPUProgram {
  variableNames: string[];
  outputShape: number[];
  packedInputs = true;
  packedOutput = true;
  userCode: string;

  constructor(src: SumsSource, slots: number, stGrid: Grid, count: number) {
    this.variableNames = ['st', 'ct', ...src.tables.map((t) => t.name)];
    this.outputShape = gridShape(stGrid);
    this.userCode = `
${GLSL_COMMON}
${sumsGlsl(src)}
void main() {
  int q = ${gridIndex(stGrid)};
  if (q >= ${2 * slots}) { setOutput(vec4(0.0)); return; }
  int s = q / 2;
  vec4 t = ${gridFetch('st', stGrid, 'q')};
  if (q - s * 2 == 0) { setOutput(t); return; }
  float rstd = ${gridFetch('st', stGrid, '2 * s')}.z;
  vec2 r = slotSums_(s);
  setOutput(vec4(t.x - rstd * r.y / ${glslFloat(count)}, t.y - rstd * r.x / ${glslFloat(count)}, 0.0, 0.0));
}`;
  }
}
