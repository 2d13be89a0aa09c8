/**
 * The elementwise passes, on packed textures: one fragment per texel (four elements), output in
 * the same packed layout as the input, so neither side is converted.
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import type {NormActivation} from '../../src/kernel_names.js';
import type {NormView} from '../../src/norm_view.js';
import {activationGlsl} from './activation_glsl.js';
import {GLSL_COMMON, gridFetch, type Grid} from './backend_util.js';
import {TexelMap, slotExpr, texelFunctions, type PackedLayout} from './layout.js';

export interface ElementwiseSpec {
  /** The output layout (tfjs's for the tensor's shape). */
  L: PackedLayout;
  /** The main input's texture (same blocks, maybe another texture shape). */
  xL: PackedLayout;
  v: NormView;
  ctGrid: Grid;
  stGrid: Grid;
  activation: NormActivation;
  alpha: number;
}

function sameTexture(a: PackedLayout, b: PackedLayout): boolean {
  return a.texW === b.texW && a.texH === b.texH;
}

function fetchX(s: ElementwiseSpec): string {
  return sameTexture(s.xL, s.L) ? 'texelFetch(x, pc, 0)' : 'x_at(t)';
}

/** GLSL shared by both passes: texel index, coordinates, and the gathered table values. */
function prologue(s: ElementwiseSpec, withK: boolean, fromOutput: boolean): string {
  const {L, v} = s;
  const map = new TexelMap(L, v);
  const comps = [0, 1, 2, 3];
  const sv = {groups: v.groups, perSample: v.perSample};
  const slot = (n: string, c: string) => `min(${slotExpr(v, sv, n, c)}, ${v.slots - 1}) * 2`;
  return [
    `ivec2 pc = ivec2(gl_FragCoord.xy); int t = pc.y * ${L.texW} + pc.x;`,
    `if (t >= ${L.texels}) { setOutput(vec4(0.0)); return; }`,
    map.coords('t'),
    map.helpers(comps),
    map.gather(comps, 'ct', (_n, c) => `min(${c}, ${v.C - 1})`, (i) => gridFetch('ct', s.ctGrid, i),
      fromOutput ? {g: 'x', bt: 'y', ig: 'z'} : {g: 'x', bt: 'y'}),
    map.gather(comps, 'st', slot, (i) => gridFetch('st', s.stGrid, i),
      fromOutput ? {rs: 'z'} : {sh: 'x', off: 'y', rs: 'z'}),
    withK ? map.gather(comps, 'sk', (n, c) => `${slot(n, c)} + 1`, (i) => gridFetch('st', s.stGrid, i),
      {k1: 'x', k2: 'y'}) : '',
  ].join('\n  ');
}

/** `y = act(((x − shift) − meanOffset)·rstd·γ + β)`. Inputs x, channel table, slot table. */
export class ApplyProgram implements GPGPUProgram {
  variableNames = ['x', 'ct', 'st'];
  outputShape: number[];
  packedInputs = true;
  packedOutput = true;
  userCode: string;

  constructor(s: ElementwiseSpec) {
    this.outputShape = s.L.shape;
    this.userCode = `
${GLSL_COMMON}
${sameTexture(s.xL, s.L) ? '' : texelFunctions('x', s.xL)}
${activationGlsl(s.activation, s.alpha)}
void main() {
  ${prologue(s, false, false)}
  vec4 v = ${fetchX(s)};
  vec4 z = ((v - sh) - off) * rs * g + bt;
  setOutput(act_(z));
}`;
  }
}

/**
 * `dx = dz·γ·rstd + x̂·k1 + k2` with `dz = dy·act'(z)`; x̂ and z from x and the statistics, or
 * from the output y (In-Place ABN). Inputs x|y, channel table, slot table (with k1, k2), dy?.
 */
export class BackwardApplyProgram implements GPGPUProgram {
  variableNames: string[];
  outputShape: number[];
  packedInputs = true;
  packedOutput = true;
  userCode: string;

  constructor(s: ElementwiseSpec, fromOutput: boolean, dyLayout: PackedLayout | null) {
    this.variableNames = dyLayout ? ['x', 'ct', 'st', 'dy'] : ['x', 'ct', 'st'];
    this.outputShape = s.L.shape;
    const sameTex = dyLayout !== null && sameTexture(dyLayout, s.L);
    const dyv = dyLayout === null ? '' : sameTex ? 'vec4 dyv = texelFetch(dy, pc, 0);' : 'vec4 dyv = dy_at(t);';
    const xhat = fromOutput
      ? 'vec4 z = actInv_(v); vec4 xh = (z - bt) * ig;'
      : 'vec4 xh = ((v - sh) - off) * rs; vec4 z = xh * g + bt;';
    const grad = s.activation === 'linear' ? 'dyv' : fromOutput ? 'dyv * actGradY_(v)' : 'dyv * actGrad_(z)';
    const dx = dyLayout === null ? 'xh * k1 + k2' : `(${grad}) * g * rs + xh * k1 + k2`;
    this.userCode = `
${GLSL_COMMON}
${sameTexture(s.xL, s.L) ? '' : texelFunctions('x', s.xL)}
${dyLayout !== null && !sameTex ? texelFunctions('dy', dyLayout) : ''}
${activationGlsl(s.activation, s.alpha)}
void main() {
  ${prologue(s, true, fromOutput)}
  vec4 v = ${fetchX(s)};
  ${dyv}
  ${xhat}
  setOutput(${dx});
}`;
  }
}
