/**
 * Small programs over per-channel and per-slot values: the tables the big passes read (layouts
 * in tables.ts) and the unpacked tables whose pieces become the kernels' small outputs.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import type {TensorInfo} from '@tensorflow/tfjs-core';
import {GLSL_COMMON, glslFloat, gridFetch, gridIndex, gridShape, type Grid} from './backend_util.js';
import {channelGlsl, SLOT_TEXELS, slotTexelGlsl, ST_B, ST_S} from './tables.js';

/** γ, β (1-D views, either may be absent: 1 and 0) into the channel-pair table. Tfjs samplers. */
export class ChannelTableProgram implements GPGPUProgram {
  variableNames: string[] = [];
  outputShape: number[];
  packedOutput = true;
  userCode: string;

  constructor(C: number, grid: Grid, hasGamma: boolean, hasBeta: boolean) {
    if (hasGamma) this.variableNames.push('gamma');
    if (hasBeta) this.variableNames.push('beta');
    this.outputShape = gridShape(grid);
    const g = (c: string) => (hasGamma ? `getGamma(${c})` : '1.0');
    const b = (c: string) => (hasBeta ? `getBeta(${c})` : '0.0');
    this.userCode = `
void main() {
  int p = ${gridIndex(grid)};
  if (p >= ${grid.count}) { setOutput(vec4(0.0)); return; }
  int c0 = 2 * p; int c1 = min(c0 + 1, ${C - 1});
  setOutput(vec4(${g('c0')}, ${g('c1')}, ${b('c0')}, ${b('c1')}));
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
  /** Fold γ and β into the coefficients (reads `gamma`, `beta` when given, after the other inputs). */
  folded: boolean;
  hasGamma: boolean;
  hasBeta: boolean;
  fromOutput: boolean;
  C: number;
}

export function slotTableInputNames(o: SlotTableOptions): string[] {
  const names = ['variance'];
  if (o.hasMean) names.push('mean');
  if (o.hasShift) names.push('shift');
  if (o.hasSums) names.push('sg', 'sgx');
  if (o.hasDMean) names.push('dm');
  if (o.hasDVariance) names.push('dv');
  if (o.folded && o.hasGamma) names.push('gamma');
  if (o.folded && o.hasBeta) names.push('beta');
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
    const sh = o.hasShift ? 'getShift(s)' : mean;
    const off = o.hasShift ? mean : '0.0';
    const count = glslFloat(o.count);
    const sg = o.hasSums ? 'getSg(s)' : '0.0';
    const sgx = o.hasSums ? 'getSgx(s)' : '0.0';
    const dm = o.hasDMean ? 'getDm(s)' : '0.0';
    const dv = o.hasDVariance ? 'getDv(s)' : '0.0';
    const [k1, k2] = o.training
      ? [`(-rstd * ${sgx} + 2.0 * ${dv} * sqrt(variance + ${glslFloat(o.epsilon)})) / ${count}`, `(-rstd * ${sg} + ${dm}) / ${count}`]
      : ['0.0', '0.0'];
    this.userCode = `
${GLSL_COMMON}
${slotTexelGlsl(o.folded, o.fromOutput, o.C,
    (c) => `vec2(${o.hasGamma ? `getGamma(${c})` : '1.0'}, ${o.hasBeta ? `getBeta(${c})` : '0.0'})`)}
void main() {
  int q = ${gridIndex(o.grid)};
  if (q >= ${SLOT_TEXELS * o.slots}) { setOutput(vec4(0.0)); return; }
  int s = q / ${SLOT_TEXELS}; int kind = q - s * ${SLOT_TEXELS};
  float variance = getVariance(s);
  float rstd = 1.0 / sqrt(variance + ${glslFloat(o.epsilon)});
  float k1 = ${k1}; float k2 = ${k2};
  setOutput(slotTexel_(kind, s, ${sh}, ${off}, rstd, variance, k1, k2));
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
  vec4 t = ${gridFetch('st', stGrid, `${SLOT_TEXELS} * s + ${ST_S}`)};
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
  const ct = channelGlsl(src.ctGrid);
  switch (src.kind) {
    case 'channel':
      return `${ct}
vec2 chanSums_(int c) { return ${gridFetch('ch', grid('ch'), 'c')}.xy; }
vec2 slotSums_(int s) {
  vec2 r = vec2(0.0);
  for (int i = 0; i < ${cpg}; i++) { int c = s * ${cpg} + i; r += ctGB_(c).x * chanSums_(c); }
  return r;
}`;
    case 'cell':
      return `${ct}
vec2 cell_(int n, int c) { return ${gridFetch('ce', grid('ce'), `n * ${src.C} + c`)}.xy; }
vec2 chanSums_(int c) {
  vec2 r = vec2(0.0);
  for (int n = 0; n < ${src.N}; n++) r += cell_(n, c);
  return r;
}
vec2 slotSums_(int s) {
  int n = s / ${src.groups}; int g = s - n * ${src.groups};
  vec2 r = vec2(0.0);
  for (int i = 0; i < ${cpg}; i++) { int c = g * ${cpg} + i; r += ctGB_(c).x * cell_(n, c); }
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

/**
 * The slot table with the slot sums folded into the backward texel: `k1 −= rstd·Σdzγx̂/count`,
 * `k2 −= rstd·Σdzγ/count`, carried into (K1, K2) as tables.ts defines them.
 */
export class SlotSumsProgram implements GPGPUProgram {
  variableNames: string[];
  outputShape: number[];
  packedInputs = true;
  packedOutput = true;
  userCode: string;

  constructor(src: SumsSource, slots: number, stGrid: Grid, count: number, fromOutput: boolean) {
    this.variableNames = ['st', 'ct', ...src.tables.map((t) => t.name)];
    this.outputShape = gridShape(stGrid);
    const n = glslFloat(count);
    this.userCode = `
${GLSL_COMMON}
${sumsGlsl(src)}
void main() {
  int q = ${gridIndex(stGrid)};
  if (q >= ${SLOT_TEXELS * slots}) { setOutput(vec4(0.0)); return; }
  int s = q / ${SLOT_TEXELS};
  vec4 t = ${gridFetch('st', stGrid, 'q')};
  if (q - s * ${SLOT_TEXELS} != ${ST_B}) { setOutput(t); return; }
  vec4 st = ${gridFetch('st', stGrid, `${SLOT_TEXELS} * s + ${ST_S}`)};
  float rstd = st.z; float off = st.y;
  vec2 r = slotSums_(s);
  float d1 = -rstd * r.y / ${n}; float d2 = -rstd * r.x / ${n};
  ${fromOutput ? 'setOutput(vec4(t.x, t.y, t.z + d1, t.w + d2));'
    : 'setOutput(vec4(t.x, t.y, t.z + rstd * d1, t.w + d2 - off * rstd * d1));'}
}`;
  }
}
