/**
 * The elementwise passes, on packed textures: one fragment per texel (four elements), output in
 * the same packed layout as the input, so neither side is converted. Each fragment fetches its
 * texel of x (and dy) plus the few table texels it needs (see tables.ts).
 */
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import type {NormActivation} from '../../src/kernel_names.js';
import type {NormView} from '../../src/norm_view.js';
import {activationGlsl} from './activation_glsl.js';
import {GLSL_COMMON, type Grid} from './backend_util.js';
import {TexelMap, texelFunctions, type PackedLayout} from './layout.js';
import {gatherGlsl, ST_A, ST_B} from './tables.js';

export interface ElementwiseSpec {
  /** The output layout (tfjs's for the tensor's shape). */
  L: PackedLayout;
  /** The main input's texture (same blocks, maybe another texture shape). */
  xL: PackedLayout;
  v: NormView;
  ctGrid: Grid;
  stGrid: Grid;
  /** The slot table carries γ and β (no channel table reads). */
  folded: boolean;
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
function prologue(s: ElementwiseSpec, channels: boolean, slotTexels: Array<{kind: number; fields: Record<string, string>}>): string {
  const {L, v} = s;
  const map = new TexelMap(L, v);
  return [
    `ivec2 pc = ivec2(gl_FragCoord.xy); int t = pc.y * ${L.texW} + pc.x;`,
    `if (t >= ${L.texels}) { setOutput(vec4(0.0)); return; }`,
    map.coords('t'),
    map.helpers([0, 1, 2, 3]),
    gatherGlsl({v, sv: {groups: v.groups, perSample: v.perSample}, comps: map.comps(), prefix: 'tb',
      ctGrid: channels ? s.ctGrid : undefined, stGrid: s.stGrid, slotTexels}),
  ].join('\n  ');
}

/** `y = act((x − shift)·P + Q [·γ + β])`. Inputs x, channel table, slot table. */
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
  ${prologue(s, !s.folded, [{kind: ST_A, fields: {sh: 'x', P: 'y', Q: 'z'}}])}
  vec4 v = ${fetchX(s)};
  vec4 z = (v - sh) * P + Q;
  ${s.folded ? '' : 'z = z * g + bt;'}
  setOutput(act_(z));
}`;
  }
}

/**
 * `dx = dz·G(·γ) + (x − shift)·K1 + K2` with `dz = dy·act'(z)`, z from the forward coefficients;
 * from the output y (In-Place ABN): x̂ = (act⁻¹(y) − β)/γ, `dx = dz·G·γ + x̂·K1 + K2`.
 * Inputs x|y, channel table, slot table, dy?.
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
    const linear = s.activation === 'linear';
    const hasDy = dyLayout !== null;
    // What each case reads: x̂ from y needs γ, β; z needs the forward coefficients.
    const channels = fromOutput || (!s.folded && hasDy);
    const texels: Array<{kind: number; fields: Record<string, string>}> = [{kind: ST_B, fields: {shB: 'x', G: 'y', K1: 'z', K2: 'w'}}];
    if (!fromOutput && !linear && hasDy) texels.push({kind: ST_A, fields: {sh: 'x', P: 'y', Q: 'z'}});
    let body: string;
    if (fromOutput) {
      body = `
  vec4 xh = (actInv_(v) - bt) / g;
  ${hasDy ? `vec4 dz = ${linear ? 'dyv' : 'dyv * actGradY_(v)'};
  setOutput(dz * G * g + xh * K1 + K2);` : 'setOutput(xh * K1 + K2);'}`;
    } else if (!hasDy) {
      body = 'setOutput((v - shB) * K1 + K2);';
    } else {
      const z = s.folded ? '(v - sh) * P + Q' : '((v - sh) * P + Q) * g + bt';
      body = `
  vec4 dz = ${linear ? 'dyv' : `dyv * actGrad_(${z})`};
  setOutput(dz * G${s.folded ? '' : ' * g'} + (v - shB) * K1 + K2);`;
    }
    this.userCode = `
${GLSL_COMMON}
${sameTexture(s.xL, s.L) ? '' : texelFunctions('x', s.xL)}
${dyLayout !== null && !sameTex ? texelFunctions('dy', dyLayout) : ''}
${activationGlsl(s.activation, s.alpha)}
void main() {
  ${prologue(s, channels, texels)}
  vec4 v = ${fetchX(s)};
  ${dyv}
  ${body}
}`;
  }
}
