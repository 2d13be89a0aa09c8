/**
 * RMSNorm's webgl kernels: GLSL programs on packed textures of the `[rows, D]` view (each texel
 * a 2×2 block: rows r, r+1 × columns c, c+1), so `x` and `dy` as tfjs's packed ops leave them are
 * read without conversion.
 *
 * Forward: a per-row reduction (`invRms`), then one elementwise pass (`y = x·invRms·gamma`).
 * Backward: a per-row reduction (`k = invRms³·Σ(dy·gamma·x)/D`), one elementwise pass
 * (`dx = invRms·dy·gamma − x·k`) and a per-column reduction (`dgamma = Σ dy·x·invRms`).
 * Sums are float32 in the shader. Contexts without float32 render targets (or WebGL 2) run
 * the composite kernels (tfjs kernels only).
 */
import type {TensorInfo} from '@tensorflow/tfjs-core';
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import {
  NormsRMSNorm, type NormsRMSNormAttrs, NormsRMSNormGrad, type NormsRMSNormGradInputs, type NormsRMSNormInputs,
} from '../../src/kernel_names.js';
import {rmsView} from '../../src/norm_view.js';
import {rmsNormComposite, rmsNormGradComposite} from '../composite/rms_norm.js';
import {callKernel, glslFloat, run, Scratch, webglKernel, type WebGLBackend} from './backend_util.js';

/**
 * A 2-D shape `[h, w]` with `h·w = n` and `h` as close to `sqrt(n)` as a divisor allows, for
 * per-row / per-column outputs: SwiftShader splits work by texture rows, so a single-row target
 * of n texels runs several times slower. Reshaping the unpacked result to `[n]` is free.
 */
function gridOf(n: number): [number, number] {
  let h = Math.floor(Math.sqrt(n));
  while (h > 1 && n % h !== 0) h--;
  return [h, n / h];
}

/** GLSL: the flat index of the current fragment of an unpacked `[h, w]` output. */
function flatIndex(w: number): string {
  return `ivec2 oc = getOutputCoords(); int i = oc.x * ${w} + oc.y;`;
}

/** The two values of a packed texel `t` in one row (upper or lower) or one column (left or right). */
const HALF = `vec2 rowPair(vec4 t, bool lower) { return lower ? t.zw : t.xy; }
vec2 colPair(vec4 t, bool right) { return right ? t.yw : t.xz; }
float cube(float v) { return v * v * v; }`;

/**
 * A reduction with one fragment per output element `i` of `n` (unpacked output `[h, w]`,
 * `h·w = n`), looping over `length` packed elements two at a time: `step(k)` adds the pair at
 * `k` to `s`, `last(k)` the single element of an odd `length`; `result` is the output.
 */
abstract class PairReduceProgram implements GPGPUProgram {
  packedInputs = true;
  packedOutput = false;
  outputShape: number[];
  userCode: string;
  constructor(readonly variableNames: string[], n: number, length: number, step: (k: string) => string,
              last: (k: number) => string, result: string) {
    const [h, w] = gridOf(n);
    this.outputShape = [h, w];
    const even = length - (length % 2);
    this.userCode = `
      ${HALF}
      void main() {
        ${flatIndex(w)}
        bool odd = i - (i / 2) * 2 == 1;
        float s = 0.0;
        for (int k = 0; k < ${even}; k += 2) { ${step('k')} }
        ${length % 2 === 1 ? last(length - 1) : ''}
        setOutput(${result});
      }`;
  }
}

/** `invRms[r] = (Σ_j x[r,j]² / D + eps)^-1/2`. */
class RmsStatsProgram extends PairReduceProgram {
  constructor(rows: number, D: number, epsilon: number) {
    super(['x'], rows, D, (k) => `vec2 v = rowPair(getX(i, ${k}), odd); s += dot(v, v);`,
          (k) => `float v = rowPair(getX(i, ${k}), odd).x; s += v * v;`,
          `1.0 / sqrt(s / ${glslFloat(D)} + ${glslFloat(epsilon)})`);
  }
}

/** `y = x · invRms[r] · gamma[c]`, packed in and out. */
class RmsApplyProgram implements GPGPUProgram {
  variableNames = ['x', 'inv', 'gamma'];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;
  constructor(rows: number, D: number) {
    this.outputShape = [rows, D];
    this.userCode = `
      void main() {
        ivec2 rc = getOutputCoords();
        vec2 iv = getInv(rc.x).xy;
        vec2 g = getGamma(rc.y).xy;
        setOutput(getX(rc.x, rc.y) * vec4(iv.x * g, iv.y * g));
      }`;
  }
}

/** `k[r] = invRms[r]³ · Σ_j dy·gamma·x / D`. */
class RmsGradRowProgram extends PairReduceProgram {
  constructor(rows: number, D: number) {
    super(['dy', 'x', 'gamma', 'inv'], rows, D,
          (k) => `s += dot(rowPair(getDy(i, ${k}), odd) * getGamma(${k}).xy, rowPair(getX(i, ${k}), odd));`,
          (k) => `s += rowPair(getDy(i, ${k}), odd).x * getGamma(${k}).x * rowPair(getX(i, ${k}), odd).x;`,
          `cube(odd ? getInv(i).y : getInv(i).x) * s / ${glslFloat(D)}`);
  }
}

/** `dx = invRms[r]·dy·gamma[c] − x·k[r]`, packed in and out. */
class RmsGradDxProgram implements GPGPUProgram {
  variableNames = ['dy', 'x', 'gamma', 'inv', 'k'];
  packedInputs = true;
  packedOutput = true;
  outputShape: number[];
  userCode: string;
  constructor(rows: number, D: number) {
    this.outputShape = [rows, D];
    this.userCode = `
      void main() {
        ivec2 rc = getOutputCoords();
        vec2 iv = getInv(rc.x).xy;
        vec2 kv = getK(rc.x).xy;
        vec2 g = getGamma(rc.y).xy;
        setOutput(getDy(rc.x, rc.y) * vec4(iv.x * g, iv.y * g) - getX(rc.x, rc.y) * vec4(kv.xx, kv.yy));
      }`;
  }
}

/** `dgamma[c] = Σ_r dy·x·invRms[r]` (the pair is two rows of column `i`). */
class RmsGradGammaProgram extends PairReduceProgram {
  constructor(rows: number, D: number) {
    super(['dy', 'x', 'inv'], D, rows,
          (k) => `s += dot(colPair(getDy(${k}, i), odd) * colPair(getX(${k}, i), odd), getInv(${k}).xy);`,
          (k) => `s += colPair(getDy(${k}, i), odd).x * colPair(getX(${k}, i), odd).x * getInv(${k}).x;`, 's');
  }
}

function reshape(b: WebGLBackend, sc: Scratch, x: TensorInfo, shape: number[]): TensorInfo {
  return sc.add(callKernel(b, 'Reshape', {x}, {shape}) as TensorInfo);
}

function forward(b: WebGLBackend, {x, gamma}: NormsRMSNormInputs, a: NormsRMSNormAttrs): TensorInfo[] {
  const {rows, D} = rmsView(x.shape, a.axisCount);
  const sc = new Scratch(b);
  try {
    const x2 = reshape(b, sc, x, [rows, D]);
    const g = reshape(b, sc, gamma, [D]);
    const inv = reshape(b, sc, sc.add(run(b, new RmsStatsProgram(rows, D, a.epsilon), [x2])), [rows]);
    const y = sc.add(run(b, new RmsApplyProgram(rows, D), [x2, inv, g]));
    return [sc.release(reshape(b, sc, y, x.shape)), sc.release(inv)];
  } finally {
    sc.dispose();
  }
}

function backward(b: WebGLBackend, {dy, x, invRms, gamma}: NormsRMSNormGradInputs, a: NormsRMSNormAttrs): TensorInfo[] {
  const {rows, D} = rmsView(x.shape, a.axisCount);
  const sc = new Scratch(b);
  try {
    const x2 = reshape(b, sc, x, [rows, D]);
    const dy2 = reshape(b, sc, dy, [rows, D]);
    const g = reshape(b, sc, gamma, [D]);
    const k = reshape(b, sc, sc.add(run(b, new RmsGradRowProgram(rows, D), [dy2, x2, g, invRms])), [rows]);
    const dx = sc.add(run(b, new RmsGradDxProgram(rows, D), [dy2, x2, g, invRms, k]));
    const dgamma = sc.add(run(b, new RmsGradGammaProgram(rows, D), [dy2, x2, invRms]));
    return [sc.release(reshape(b, sc, dx, x.shape)), sc.release(reshape(b, sc, dgamma, gamma.shape))];
  } finally {
    sc.dispose();
  }
}

const composite = (f: typeof rmsNormComposite) => (backend: WebGLBackend, inputs: object, attrs: object) =>
  f({inputs: inputs as never, backend, attrs: attrs as never}) as TensorInfo[];

export const rmsNormConfig = webglKernel<NormsRMSNormInputs, NormsRMSNormAttrs, TensorInfo[]>(
    NormsRMSNorm, forward, composite(rmsNormComposite));
export const rmsNormGradConfig = webglKernel<NormsRMSNormGradInputs, NormsRMSNormAttrs, TensorInfo[]>(
    NormsRMSNormGrad, backward, composite(rmsNormGradComposite));
