/**
 * WGSL building blocks shared by the programs of norm_programs.ts: the view's index arithmetic
 * (docs/kernels.md, "The view"), the fused activations and the per-element backward quantities.
 * Layout, `perSample`, the activation and which optional inputs exist are baked into the text
 * (and so into the shader key, see `viewKey`); sizes, epsilon and alpha are uniforms.
 */
import {ELU_INVERSE_MIN} from '../../src/activation.js';
import type {NormActivation, NormApplyAttrs, NormViewAttrs} from '../../src/kernel_names.js';
import type {NormView} from '../../src/norm_view.js';

type U = Array<[name: string, type: 'i32' | 'f32', value: number]>;

/** The view's sizes as uniforms (`uniforms.N` ...). */
export function viewUniforms(v: NormView): U {
  return [['N', 'i32', v.N], ['C', 'i32', v.C], ['S', 'i32', v.S], ['groups', 'i32', v.groups],
    ['cpg', 'i32', v.cpg], ['slots', 'i32', v.slots], ['count', 'i32', v.count]];
}

export function applyUniforms(v: NormView, a: NormApplyAttrs): U {
  return [...viewUniforms(v), ['epsilon', 'f32', a.epsilon], ['alpha', 'f32', a.alpha]];
}

export function viewKey(a: NormViewAttrs): string {
  return `${a.layout}${a.perSample ? 'p' : 'b'}`;
}

/**
 * Index arithmetic of the view: `slotOf(n, c)`, and the elements of one slot as blocks: element
 * `j` of slot `slot` sits at `slotBase(slot) + (j / slotInner()) * slotStride() + j % slotInner()`.
 */
export function viewWgsl(a: NormViewAttrs): string {
  const nsc = a.layout === 'NSC';
  return `
fn slotOf(n : i32, c : i32) -> i32 { return ${a.perSample ? 'n * uniforms.groups + ' : ''}c / uniforms.cpg; }
fn slotSample(slot : i32) -> i32 { return ${a.perSample ? 'slot / uniforms.groups' : '0'}; }
fn slotInner() -> i32 { return ${nsc ? 'uniforms.cpg' : 'uniforms.cpg * uniforms.S'}; }
fn slotStride() -> i32 { return ${nsc ? 'uniforms.C' : 'uniforms.C * uniforms.S'}; }
fn slotBase(slot : i32) -> i32 {
  let c0 = (slot % uniforms.groups) * uniforms.cpg;
  return ${nsc ? 'slotSample(slot) * uniforms.S * uniforms.C + c0' : '(slotSample(slot) * uniforms.C + c0) * uniforms.S'};
}
`;
}

/** Elements per invocation of the elementwise programs (their divisions are paid once per run). */
export const ELEMENTS_PER_INVOCATION = 4;

/**
 * A position in the view that steps through consecutive flat elements without integer division
 * (slow where the GPU emulates it, e.g. SwiftShader): `posOf(i)` divides once, `advance(&p)` then
 * moves to element `i + 1`; `slotAt(p)` is its statistics slot.
 */
export function walkerWgsl(a: NormViewAttrs): string {
  const nsc = a.layout === 'NSC';
  return `
struct Pos { c : i32, n : i32, s : i32, g : i32, k : i32 };
fn posOf(i : i32) -> Pos {
  ${nsc ? `let c = i % uniforms.C;
  let r = i / uniforms.C;
  let s = r % uniforms.S;
  let n = r / uniforms.S;` : `let s = i % uniforms.S;
  let r = i / uniforms.S;
  let c = r % uniforms.C;
  let n = r / uniforms.C;`}
  return Pos(c, n, s, c / uniforms.cpg, c % uniforms.cpg);
}
// Next channel; true when it wrapped around to channel 0.
fn nextChannel(p : ptr<function, Pos>) -> bool {
  (*p).c = (*p).c + 1;
  (*p).k = (*p).k + 1;
  if ((*p).k == uniforms.cpg) { (*p).k = 0; (*p).g = (*p).g + 1; }
  if ((*p).c == uniforms.C) { (*p).c = 0; (*p).k = 0; (*p).g = 0; return true; }
  return false;
}
fn advance(p : ptr<function, Pos>) {
  ${nsc ? `if (nextChannel(p)) {
    (*p).s = (*p).s + 1;
    if ((*p).s == uniforms.S) { (*p).s = 0; (*p).n = (*p).n + 1; }
  }` : `(*p).s = (*p).s + 1;
  if ((*p).s == uniforms.S) {
    (*p).s = 0;
    if (nextChannel(p)) { (*p).n = (*p).n + 1; }
  }`}
}
fn slotAt(p : Pos) -> i32 { return ${a.perSample ? 'p.n * uniforms.groups + ' : ''}p.g; }
`;
}

/** The body of an elementwise program: `EACH` runs for element `i` at position `p` (slot `slot`, channel `c`). */
export function elementwiseBody(each: string): string {
  return `
fn body(index : i32) {
  let first = index * ${ELEMENTS_PER_INVOCATION};
  if (first < uniforms.size) {
    var p = posOf(first);
    let last = min(first + ${ELEMENTS_PER_INVOCATION}, uniforms.size);
    for (var i = first; i < last; i++) {
      let c = p.c;
      let slot = slotAt(p);
      ${each}
      advance(&p);
    }
  }
}`;
}

/**
 * `act`, `act'` (subgradient 0 / alpha at z = 0, as PyTorch) and, for the backward pass from the
 * output (In-Place ABN), `act⁻¹(y)` and `act'` read from `y`. `exp` only sees z ≤ 0.
 */
export function activationWgsl(activation: NormActivation): string {
  const A = 'uniforms.alpha';
  switch (activation) {
    case 'relu':
      return `
fn act(z : f32) -> f32 { return select(0.0, z, z > 0.0); }
fn actGrad(z : f32) -> f32 { return select(0.0, 1.0, z > 0.0); }
fn actInv(y : f32) -> f32 { return y; }
fn actGradY(y : f32) -> f32 { return select(0.0, 1.0, y > 0.0); }`;
    case 'leakyRelu':
      return `
fn act(z : f32) -> f32 { return select(${A} * z, z, z > 0.0); }
fn actGrad(z : f32) -> f32 { return select(${A}, 1.0, z > 0.0); }
fn actInv(y : f32) -> f32 { return select(y / ${A}, y, y > 0.0); }
fn actGradY(y : f32) -> f32 { return select(${A}, 1.0, y > 0.0); }`;
    case 'elu':
      return `
fn act(z : f32) -> f32 { return select(${A} * (exp(min(z, 0.0)) - 1.0), z, z > 0.0); }
fn actGrad(z : f32) -> f32 { return select(${A} * exp(min(z, 0.0)), 1.0, z > 0.0); }
// log1p(t) without losing small t: log(u) * t / (u - 1) with u = 1 + t.
fn log1p_(t : f32) -> f32 {
  let u = 1.0 + t;
  if (u == 1.0) { return t; }
  return log(max(u, 1e-30)) * t / (u - 1.0);
}
fn actInv(y : f32) -> f32 { return select(log1p_(max(y / ${A}, ${ELU_INVERSE_MIN.toPrecision(17)})), y, y > 0.0); }
fn actGradY(y : f32) -> f32 { return select(y + ${A}, 1.0, y > 0.0); }`;
    default:
      return `
fn act(z : f32) -> f32 { return z; }
fn actGrad(z : f32) -> f32 { return 1.0; }
fn actInv(y : f32) -> f32 { return y; }
fn actGradY(y : f32) -> f32 { return 1.0; }`;
  }
}

/** Which optional inputs a program reads (baked into its text and key). */
export interface Present {
  shift: boolean;
  gamma: boolean;
  beta: boolean;
}

export function presentKey(p: Present): string {
  return `${p.shift ? 's' : ''}${p.gamma ? 'g' : ''}${p.beta ? 'b' : ''}`;
}

/**
 * `gammaAt(c)`, `betaAt(c)`, `rstdAt(slot)` and `centered(xv, slot)` (`x − mean` of a value `xv` of
 * `src`, through the shift when there is one), from the statistics inputs, or (`table`) from the
 * per-slot table of `slotTableProgram` (rows shift, mean, rstd, k1, k2), which keeps the backward
 * apply within WebGPU's default limit of 8 storage buffers per shader stage.
 */
export function statsWgsl(p: Present, table = false): string {
  const stats = table ? `
fn rstdAt(slot : i32) -> f32 { return table[2 * uniforms.slots + slot]; }
fn centered(xv : f32, slot : i32) -> f32 { return (xv - table[slot]) - table[uniforms.slots + slot]; }` : `
fn rstdAt(slot : i32) -> f32 { return inverseSqrt(variance[slot] + uniforms.epsilon); }
fn centered(xv : f32, slot : i32) -> f32 { return (xv${p.shift ? ' - shift[slot]' : ''}) - mean[slot]; }`;
  return `
fn gammaAt(c : i32) -> f32 { return ${p.gamma ? 'gamma[c]' : '1.0'}; }
fn betaAt(c : i32) -> f32 { return ${p.beta ? 'beta[c]' : '0.0'}; }${stats}
`;
}

/**
 * `grads(xv, c, slot, dyv)` = `(dz, xhat)` of a value `xv` of the backward source, which is `x` and the
 * saved statistics, or (fromOutput) In-Place ABN's `y` through the activation's inverse.
 */
export function backwardSourceWgsl(fromOutput: boolean, linear: boolean): string {
  if (fromOutput) {
    return `
fn grads(yv : f32, c : i32, slot : i32, dyv : f32) -> vec2<f32> {
  let xhat = (actInv(yv) - betaAt(c)) / gammaAt(c);
  return vec2<f32>(dyv * actGradY(yv), xhat);
}`;
  }
  return `
fn grads(xv : f32, c : i32, slot : i32, dyv : f32) -> vec2<f32> {
  let xhat = centered(xv, slot) * rstdAt(slot);
  ${linear ? 'return vec2<f32>(dyv, xhat);' : 'return vec2<f32>(dyv * actGrad(xhat * gammaAt(c) + betaAt(c)), xhat);'}
}`;
}

/** A tree reduction of `k` partial sums per invocation in workgroup memory (`wg` a power of 2). */
export function treeWgsl(wg: number, k: number): string {
  return `
var<workgroup> partial : array<array<f32, ${k}>, ${wg}>;
fn reduceTree(tid : i32) {
  workgroupBarrier();
  for (var stride = ${wg / 2}; stride > 0; stride = stride / 2) {
    if (tid < stride) {
      for (var q = 0; q < ${k}; q++) { partial[tid][q] = partial[tid][q] + partial[tid + stride][q]; }
    }
    workgroupBarrier();
  }
}
fn rowIndex() -> i32 {
  return i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x);
}`;
}
