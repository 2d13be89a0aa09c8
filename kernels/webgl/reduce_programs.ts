/**
 * The reduction programs: stage 1 reads the big input(s) once and writes one partial record per
 * work item; merge stages combine a slot's records (Chan's formula for statistics, sums for the
 * backward pass), either into fewer records or into the final per-slot table.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import type {NormActivation} from '../../src/kernel_names.js';
import {activationGlsl} from './activation_glsl.js';
import {GLSL_COMMON, glslFloat, gridIndex, gridShape, idiv, imod, type Grid} from './backend_util.js';
import {TexelMap, slotExpr, texelFunctions, type PackedLayout} from './layout.js';
import {baseRowGlsl, firstElementGlsl, recordGlsl, type ReducePlan} from './reduce_plan.js';
import {channelGlsl, gatherGlsl, SLOT_TEXELS, slotTexelGlsl, ST_S, type CompNC} from './tables.js';

/** What the backward reduction accumulates per element. */
export interface SumsSpec {
  activation: NormActivation;
  alpha: number;
  /** x̂ and act' come from the output y (In-Place ABN) instead of x and the statistics. */
  fromOutput: boolean;
  /** Multiply both sums by gamma (slot sums Σdz·γ, Σdz·γ·x̂). */
  weighted: boolean;
  /** Grids of the channel table and the slot table (tables.ts). */
  ctGrid: Grid;
  stGrid: Grid;
  C: number;
  normSlots: number;
}

/**
 * Stage 1. Statistics: inputs `[x]`, records (n, mean, M2) of `x − shift` (`shift` = the slot's
 * first element) or two sub-slot pairs (mean, M2). Sums: inputs `[dy, x|y, ct, st]`, records
 * (Σdz, Σdz·x̂) or two such pairs.
 */
export class ReducePartialsProgram implements GPGPUProgram {
  variableNames: string[];
  outputShape: number[];
  packedInputs = true;
  packedOutput = true;
  userCode: string;

  constructor(p: ReducePlan, sums: SumsSpec | null, dyLayout?: PackedLayout) {
    this.variableNames = sums ? ['dy', 'x', 'ct', 'st'] : ['x'];
    this.outputShape = gridShape(p.grid);
    const L = p.L;
    const map = new TexelMap(L, p.v);
    const single = p.kind === 'elem';
    const comps = single ? [0] : [0, 1, 2, 3];
    // Table values constant over the item are fetched once, before the loop.
    const hoisted = sums === null ? {st: false, ct: false, glsl: ''} : hoistTables(p, sums);
    const perTexelLookups = sums !== null && (!hoisted.ct || (!hoisted.st && !sums.fromOutput));
    const needCoords = perTexelLookups || L.R2 % 2 === 1 || L.C2 % 2 === 1 || single;
    const mask = single ? 'bvec4(true, false, false, false)' : needCoords ? map.validMask() : 'bvec4(true)';

    // Per-texel accumulation.
    let body: string;
    if (sums === null) {
      body = `
    vec4 d = mix(vec4(0.0), v - kv, m);
    s1 += d; s2 += d * d;${p.kind === 'rowrun' || single ? '\n    cnt += dot(mix(vec4(0.0), vec4(1.0), m), vec4(1.0));' : ''}`;
    } else {
      const gathered = perTexelTables(p, sums, map, comps, hoisted);
      const grad = sums.activation === 'linear' ? 'dyv' : sums.fromOutput ? 'dyv * actGradY_(v)' : 'dyv * actGrad_(z)';
      const xhat = sums.fromOutput
        ? 'vec4 z = actInv_(v); vec4 xh = (z - bt) / g;'
        : 'vec4 xh = ((v - sh) - off) * rs; vec4 z = xh * g + bt;';
      const w = sums.weighted ? ' * g' : '';
      body = `
    ${gathered}
    ${xhat}
    vec4 dz = ${grad};
    s1 += mix(vec4(0.0), dz${w}, m);
    s2 += mix(vec4(0.0), dz${w} * xh, m);`;
    }
    const coords = (t: string) => (single ? `int rho0 = ${idiv(t, L.C2)}; int col0 = ${imod(t, L.C2)}; int rho1 = rho0; int col1 = col0;`
      : needCoords ? map.coords(t) : '');
    const fetchV = single ? `vec4 v = vec4(x_el(f), 0.0, 0.0, 0.0);${sums ? ' vec4 dyv = vec4(dy_el(f), 0.0, 0.0, 0.0);' : ''}`
      : `vec4 v = x_at(t);${sums ? ' vec4 dyv = dy_at(t);' : ''}`;
    const texelStep = (t: string) => `{
    ${coords(t)}
    bvec4 m = ${mask};
    ${fetchV}
    ${body}
  }`;

    // Iteration over the item's tile, per scheme.
    let loop: string;
    let shifts = '';
    let result: string;
    const stats = sums === null;
    const el = (f: string) => `x_el(${f})`;
    switch (p.kind) {
      case 'rowrun': {
        const baseT = `(${baseRowGlsl(p, 's')} / ${L.R2}) * ${L.TB}`;
        if (stats) shifts = `vec4 kv = vec4(x_at(${baseT}).x);`;
        loop = runsLoop(p, 'o', 't', baseT, `${shifts}\n  ${hoisted.glsl}`, texelStep);
        result = stats ? singleStats() : 'setOutput(vec4(dot(s1, vec4(1.0)), dot(s2, vec4(1.0)), 0.0, 0.0));';
        break;
      }
      case 'rowpair': {
        const NRP = L.B * L.RP;
        const rowSlot = (rho: string) => rowSlotGlsl(p, rho);
        if (stats) {
          shifts = `
  float kA = ${el(firstElementGlsl(p, rowSlot('rhoA')))};
  float kB = rhoA + 1 < ${L.B * L.R2} ? ${el(firstElementGlsl(p, rowSlot('rhoA + 1')))} : kA;
  vec4 kv = vec4(kA, kA, kB, kB);`;
        }
        loop = `
  int P = ${imod('item', NRP)}; int kc = ${idiv('item', NRP)};
  int q0 = kc * ${p.T}; int q1 = min(q0 + ${p.T}, ${L.TR});
  int bb = ${idiv('P', L.RP)}; int rhoA = bb * ${L.R2} + 2 * (P - bb * ${L.RP});
  ${shifts}
  ${hoisted.glsl}
  int t = P * ${L.TR} + q0;
  for (int i = 0; i < ${p.T}; i++) {
    if (q0 + i >= q1) break;
    ${texelStep('t')}
    t++;
  }`;
        result = stats ? pairStats('s1.x + s1.y', 's2.x + s2.y', 's1.z + s1.w', 's2.z + s2.w', rowpairCount(p))
          : 'setOutput(vec4(s1.x + s1.y, s2.x + s2.y, s1.z + s1.w, s2.z + s2.w));';
        break;
      }
      case 'col': {
        const Jn = p.Jn!, Nn = p.Nn!;
        const slotOf = (c: string) => slotExpr(p.v, p.sv, 'nn', c);
        if (stats) {
          shifts = `
  float kA = ${el(firstElementGlsl(p, slotOf('2 * cp')))};
  float kB = 2 * cp + 1 < ${L.C2} ? ${el(firstElementGlsl(p, slotOf('2 * cp + 1')))} : kA;
  vec4 kv = vec4(kA, kB, kA, kB);`;
        }
        loop = `
  int cp = ${imod('item', L.TR)}; int rest = ${idiv('item', L.TR)};
  int nn = ${imod('rest', Nn)}; int kr = ${idiv('rest', Nn)};
  int j0 = nn * ${Jn} + kr * ${p.T}; int j1 = min(j0 + ${p.T}, nn * ${Jn} + ${Jn});
  ${shifts}
  ${hoisted.glsl}
  int t = j0 * ${L.TR} + cp;
  for (int i = 0; i < ${p.T}; i++) {
    if (j0 + i >= j1) break;
    ${texelStep('t')}
    t += ${L.TR};
  }`;
        result = stats ? pairStats('s1.x + s1.z', 's2.x + s2.z', 's1.y + s1.w', 's2.y + s2.w', colCount(p))
          : 'setOutput(vec4(s1.x + s1.z, s2.x + s2.z, s1.y + s1.w, s2.y + s2.w));';
        break;
      }
      default: {
        const base = firstElementGlsl(p, 's');
        if (stats) shifts = `vec4 kv = vec4(${el(base)});`;
        loop = runsLoop(p, 'e', 'f', base, `${shifts}\n  ${hoisted.glsl}`, texelStep);
        result = stats ? singleStats() : 'setOutput(vec4(s1.x, s2.x, 0.0, 0.0));';
      }
    }

    this.userCode = `
${GLSL_COMMON}
${texelFunctions('x', L, true)}
${sums ? texelFunctions('dy', dyLayout ?? L, true) : ''}
${sums ? activationGlsl(sums.activation, sums.alpha) : ''}
void main() {
  int item = ${gridIndex(p.grid)};
  if (item >= ${p.items}) { setOutput(vec4(0.0)); return; }
  vec4 s1 = vec4(0.0); vec4 s2 = vec4(0.0); float cnt = 0.0;
  ${loop}
  ${result}
}`;
  }
}

interface Hoisted {
  /** Slot-table (statistics) and channel-table values are item constants. */
  st: boolean;
  ct: boolean;
  glsl: string;
}

/**
 * Which table values are constant over a work item of the backward reduction, and the GLSL
 * (placed before the loop, after the item's indices) that fetches them, per texel component:
 * a reduction slot inside one statistics slot, one channel per slot, a row of one channel
 * (NCS rows), a column pair of two channels.
 */
function hoistTables(p: ReducePlan, sums: SumsSpec): Hoisted {
  const {v, sv, L} = p;
  const normSv = {groups: v.groups, perSample: v.perSample};
  const inNormSlot = (sv.perSample || !v.perSample) && sv.groups % v.groups === 0;
  let st = false, ct = false;
  let comps: CompNC[] = [];
  switch (p.kind) {
    case 'rowrun': case 'elem': {
      const n = sv.perSample ? idiv('s', sv.groups) : '0';
      const c = sv.groups === 1 ? '0' : `${imod('s', sv.groups)} * ${v.C / sv.groups}`;
      st = inNormSlot;
      ct = sv.groups === v.C;
      comps = [0, 1, 2, 3].map(() => ({n, c}));
      break;
    }
    case 'rowpair': {
      const rowB = `min(rhoA + 1, ${L.B * L.R2 - 1})`;
      const rows = [0, 1].map((r) => {
        const rho = r === 0 ? 'rhoA' : rowB;
        if (!v.channelsLast) {
          const q = idiv(rho, v.S / L.C2);
          return {n: idiv(q, v.C), c: imod(q, v.C)};
        }
        return {n: idiv(rho, (v.S * v.C) / L.C2), c: '0'};
      });
      st = !v.channelsLast || v.groups === 1;
      ct = !v.channelsLast;
      comps = [rows[0], rows[0], rows[1], rows[1]];
      break;
    }
    case 'col': {
      const n = sv.perSample ? 'nn' : '0';
      const cols = [{n, c: '2 * cp', pairC: '2 * cp', odd: false}, {n, c: `min(2 * cp + 1, ${v.C - 1})`, pairC: '2 * cp', odd: true}];
      st = sv.perSample || !v.perSample;
      ct = true;
      comps = [cols[0], cols[1], cols[0], cols[1]];
      break;
    }
  }
  st = st && !sums.fromOutput;
  const glsl = st || ct ? gatherGlsl({v, sv: normSv, comps, prefix: 'hi', ctGrid: ct ? sums.ctGrid : undefined,
    stGrid: st ? sums.stGrid : undefined, slotTexels: [{kind: ST_S, fields: {sh: 'x', off: 'y', rs: 'z'}}]}) : '';
  return {st, ct, glsl};
}

/** GLSL inside the loop: the table values that change from texel to texel. */
function perTexelTables(p: ReducePlan, sums: SumsSpec, map: TexelMap, comps: number[], h: Hoisted): string {
  const needSt = !sums.fromOutput && !h.st;
  if (h.ct && !needSt) return '';
  const {v} = p;
  // One element at a time (elem), col0 is the element's own column, not a pair's even one.
  const single = p.kind === 'elem';
  const all = [0, 1, 2, 3].map((k) => (!comps.includes(k) ? null : single ? {n: map.nExpr(k), c: map.cExpr(k)} : map.compNC(k)));
  return [
    map.helpers(comps),
    gatherGlsl({v, sv: {groups: v.groups, perSample: v.perSample}, comps: all, prefix: 'tx',
      ctGrid: h.ct ? undefined : sums.ctGrid, stGrid: needSt ? sums.stGrid : undefined,
      slotTexels: [{kind: ST_S, fields: {sh: 'x', off: 'y', rs: 'z'}}]}),
  ].join('\n    ');
}

/**
 * The loop over an item of slot `s`: `T` consecutive elements (texels for `rowrun`) counted by
 * `cur`, read at `pos` from `base` along runs of `runLen` that start `runStride` apart.
 */
function runsLoop(p: ReducePlan, cur: string, pos: string, base: string, prelude: string,
                  step: (pos: string) => string): string {
  const runLen = p.runLen!, runStride = p.runStride!, total = runLen * p.runs!;
  return `
  int s = ${imod('item', p.slots)}; int k = ${idiv('item', p.slots)};
  int ${cur} = k * ${p.T}; int ${cur}End = min(${cur} + ${p.T}, ${total});
  int run = ${idiv(cur, runLen)}; int within = ${cur} - run * ${runLen};
  int ${pos} = ${base} + run * ${runStride} + within;
  ${prelude}
  for (int i = 0; i < ${p.T}; i++) {
    if (${cur} + i >= ${cur}End) break;
    ${step(pos)}
    ${pos}++; within++;
    if (within == ${runLen}) { within = 0; ${pos} += ${runStride - runLen}; }
  }`;
}

function singleStats(): string {
  return `
  float a = dot(s1, vec4(1.0)); float n = max(cnt, 1.0);
  float mean = a / n;
  setOutput(vec4(cnt, mean, max(dot(s2, vec4(1.0)) - a * mean, 0.0), 0.0));`;
}

function pairStats(aA: string, bA: string, aB: string, bB: string, count: string): string {
  return `
  float n = max(${count}, 1.0);
  float mA = (${aA}) / n; float mB = (${aB}) / n;
  setOutput(vec4(mA, max((${bA}) - (${aA}) * mA, 0.0), mB, max((${bB}) - (${aB}) * mB, 0.0)));`;
}

function rowpairCount(p: ReducePlan): string {
  return `float(2 * (q1 - q0) - (q1 == ${p.L.TR} ? ${p.L.C2 % 2} : 0))`;
}

function colCount(p: ReducePlan): string {
  const RP = p.L.RP;
  return `float(2 * (j1 - j0)${p.L.R2 % 2 === 1 ? ` - (j1 / ${RP} - j0 / ${RP})` : ''})`;
}

/** GLSL: reduction slot of matrix row `rho` (row-based schemes). */
function rowSlotGlsl(p: ReducePlan, rho: string): string {
  const {v, sv, L} = p;
  if (!v.channelsLast) {
    const q = idiv(rho, v.S / L.C2);
    return slotExpr(v, sv, idiv(q, v.C), imod(q, v.C));
  }
  const n = idiv(rho, (v.S * v.C) / L.C2);
  const cb = v.C === L.C2 ? '0' : `${imod(rho, v.C / L.C2)} * ${L.C2}`;
  return slotExpr(v, sv, n, cb);
}

export type MergeOutput =
  | {kind: 'records'; grid: Grid}
  /** Statistics: the slot table (tables.ts); folded ones read the channel table. */
  | {kind: 'slotTable'; grid: Grid; epsilon: number; folded: boolean; C: number; ctGrid: Grid}
  /** Sums: one texel (a, b, 0, 0) per slot. */
  | {kind: 'sumTable'; grid: Grid};

/**
 * Merges the records of plan `p` (partials texture `P`): `next` is the merge plan whose items
 * are (slot, chunk of `next.T` records). Statistics also read `x` for the slots' shifts.
 */
export class MergeProgram implements GPGPUProgram {
  variableNames: string[];
  outputShape: number[];
  packedInputs = true;
  packedOutput = true;
  userCode: string;

  constructor(p: ReducePlan, stats: boolean, out: MergeOutput, chunk: number, xLayout?: PackedLayout) {
    this.variableNames = out.kind === 'slotTable' ? (out.folded ? ['P', 'x', 'ct'] : ['P', 'x']) : ['P'];
    this.outputShape = gridShape(out.grid);
    const perSlot = p.perSlot;
    const slots = p.slots;
    const accumulate = stats ? `
    if (r.x > 0.0) {
      float nn = n + r.x; float d = r.y - mean;
      mean += d * (r.x / nn);
      m2 += r.z + d * d * (n * r.x / nn);
      n = nn;
    }` : `
    sa += r.x; sb += r.y;`;
    let head: string, emit: string;
    switch (out.kind) {
      case 'records':
        head = `int s = ${imod('q', slots)}; int k = ${idiv('q', slots)};`;
        emit = stats ? 'setOutput(vec4(n, mean, m2, 0.0));' : 'setOutput(vec4(sa, sb, 0.0, 0.0));';
        break;
      case 'slotTable':
        head = `if (q >= ${SLOT_TEXELS * slots}) { setOutput(vec4(0.0)); return; }
  int s = q / ${SLOT_TEXELS}; int kind = q - s * ${SLOT_TEXELS}; int k = 0;`;
        emit = `
  float variance = max(m2 / max(n, 1.0), 0.0);
  float shift = x_el(${firstElementGlsl(p, 's')});
  setOutput(slotTexel_(kind, s, shift, mean, 1.0 / sqrt(variance + ${glslFloat(out.epsilon)}), variance, 0.0, 0.0));`;
        break;
      default:
        head = `if (q >= ${slots}) { setOutput(vec4(0.0)); return; }
  int s = q; int k = 0;`;
        emit = 'setOutput(vec4(sa, sb, 0.0, 0.0));';
    }
    const limit = out.kind === 'records' ? `${p.slots} * ${Math.ceil(perSlot / chunk)}` : null;
    this.userCode = `
${GLSL_COMMON}
${xLayout ? texelFunctions('x', xLayout, true) : ''}
${out.kind === 'slotTable' && out.folded ? channelGlsl(out.ctGrid) : ''}
${out.kind === 'slotTable' ? slotTexelGlsl(out.folded, false, out.C) : ''}
${recordGlsl(p, stats)}
void main() {
  int q = ${gridIndex(out.grid)};
  ${limit ? `if (q >= ${limit}) { setOutput(vec4(0.0)); return; }` : ''}
  ${head}
  float n = 0.0; float mean = 0.0; float m2 = 0.0; float sa = 0.0; float sb = 0.0;
  int j0 = k * ${chunk}; int j1 = min(j0 + ${chunk}, ${perSlot});
  for (int i = 0; i < ${chunk}; i++) {
    int j = j0 + i;
    if (j >= j1) break;
    vec4 r;
    rec_(s, j, r);
    ${accumulate}
  }
  ${emit}
}`;
  }
}
