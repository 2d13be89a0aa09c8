/**
 * Four elements per invocation as one `vec4<f32>` (the backend's `outputComponent` /
 * `variableComponents`), for the elementwise programs: one vector load of `x` (and `dy`), one
 * vector store, and the view's index arithmetic once per four elements, by float reciprocals
 * instead of integer division (emulated per lane on SwiftShader's CPU threads).
 *
 * Possible when four consecutive elements share their position but for the channel: channels
 * first (`NCS`) with `S % 4 == 0` (same channel and slot), channels last (`NSC`) with
 * `C % 4 == 0` (four consecutive channels of one sample and spatial position).
 */
import type {NormViewAttrs} from '../../src/kernel_names.js';
import type {NormView} from '../../src/norm_view.js';

type U = Array<[name: string, type: 'i32' | 'f32', value: number]>;

/** `fdiv` is exact (after one correction step) while quotients stay below this. */
export const FAST_DIV_LIMIT = 2 ** 22;

/**
 * `fdiv(a, d, r)` = `a / d` for `0 ≤ a`, `0 < d`, `r = 1/d` as a float32 uniform and a quotient
 * below FAST_DIV_LIMIT: the float estimate is off by at most one, which the remainder corrects.
 */
export const FDIV_WGSL = `
fn fdiv(a : i32, d : i32, r : f32) -> i32 {
  var q = i32(f32(a) * r);
  let rem = a - q * d;
  if (rem < 0) { q = q - 1; } else if (rem >= d) { q = q + 1; }
  return q;
}`;

export function lanesApply(v: NormView): boolean {
  const total = v.N * v.C * v.S;
  return total / 4 < FAST_DIV_LIMIT && (v.channelsLast ? v.C % 4 === 0 : v.S % 4 === 0);
}

/** Reciprocals of the divisors, as uniforms (`uniforms.rInner4` ...). */
export function lanesUniforms(v: NormView): U {
  return [['rInner4', 'f32', 1 / ((v.channelsLast ? v.C : v.S) / 4)], ['rOuter', 'f32', 1 / (v.channelsLast ? v.S : v.C)],
    ['rCpg', 'f32', 1 / v.cpg]];
}

export function lanesKey(v: NormView): string {
  return v.channelsLast ? `L${v.cpg === 1 ? '1' : v.cpg % 4 === 0 ? '4' : 'n'}` : `L${v.cpg === 1 ? '1' : 'n'}`;
}

/**
 * `lanesOf(index)`: channel and slot of each of the four elements of vector `index`.
 */
export function lanesWgsl(a: NormViewAttrs, v: NormView): string {
  const nsc = a.layout === 'NSC';
  const group = (c: string) => (v.cpg === 1 ? c : `fdiv(${c}, uniforms.cpg, uniforms.rCpg)`);
  const slot = (n: string, g: string) => (a.perSample ? `${n} * uniforms.groups + ${g}` : g);
  let body: string;
  if (!nsc) {
    body = `
  let row = fdiv(index, uniforms.S / 4, uniforms.rInner4);
  let n = fdiv(row, uniforms.C, uniforms.rOuter);
  let c = row - n * uniforms.C;
  let s = ${slot('n', group('c'))};
  return Lanes(vec4<i32>(c), vec4<i32>(s));`;
  } else {
    const c4 = 'vec4<i32>(c0, c0 + 1, c0 + 2, c0 + 3)';
    const g4 = v.cpg === 1 ? c4 : v.cpg % 4 === 0 ? `vec4<i32>(${group('c0')})` :
      `vec4<i32>(${group('c0')}, ${group('c0 + 1')}, ${group('c0 + 2')}, ${group('c0 + 3')})`;
    body = `
  let C4 = uniforms.C / 4;
  let row = fdiv(index, C4, uniforms.rInner4);
  let c0 = (index - row * C4) * 4;
  let n = fdiv(row, uniforms.S, uniforms.rOuter);
  let g = ${g4};
  return Lanes(${c4}, ${a.perSample ? 'vec4<i32>(n * uniforms.groups) + g' : 'g'});`;
  }
  return `${FDIV_WGSL}
struct Lanes { c : vec4<i32>, slot : vec4<i32> };
fn lanesOf(index : i32) -> Lanes {${body}
}`;
}

/**
 * The body of a vector program: `EACH` computes `out : f32` of lane `k` from `xk` (and `dyk`)
 * with channel `c` and slot `slot`.
 */
export function lanesBody(each: string, withDy: boolean): string {
  return `
fn lane(xk : f32, dyk : f32, c : i32, slot : i32) -> f32 {${each}
}
fn body(index : i32) {
  if (index < uniforms.size) {
    let p = lanesOf(index);
    let xv = src[index];
    let dv = ${withDy ? 'dy[index]' : 'vec4<f32>(0.0)'};
    result[index] = vec4<f32>(lane(xv.x, dv.x, p.c.x, p.slot.x), lane(xv.y, dv.y, p.c.y, p.slot.y),
                              lane(xv.z, dv.z, p.c.z, p.slot.z), lane(xv.w, dv.w, p.c.w, p.slot.w));
  }
}`;
}
