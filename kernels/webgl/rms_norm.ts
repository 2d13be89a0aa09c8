/**
 * RMSNorm's webgl kernels: GLSL programs on packed textures of the `[rows, D]` view (each texel
 * a 2×2 block: rows r, r+1 × columns c, c+1), so `x` and `dy` as tfjs's packed ops leave them are
 * read without conversion.
 *
 * Forward: a per-row reduction (`invRms`), then one elementwise pass (`y = x·invRms·gamma`).
 * Backward: a per-row reduction (`k = invRms³·Σ(dy·gamma·x)/D`), one elementwise pass
 * (`dx = invRms·dy·gamma − x·k`) and a per-column reduction in two passes (`dgamma = Σ dy·x·invRms`
 * per block of rows, then over the blocks). Every reduction fragment works on whole texels (two
 * rows, or two rows × two columns), so each texel is fetched once per pass; per-row values are
 * packed `[rows, 1]` textures (rows r and r+1 in `.x` and `.z`), one column of texels.
 * Sums are float32 in the shader. Contexts without float32 render targets (or WebGL 2) run
 * the composite kernels (tfjs kernels only).
 */
import type {TensorInfo} from '@tensorflow/tfjs-core';
import type {GPGPUProgram} from '@tensorflow/tfjs-backend-webgl';
import type {NormsRMSNormAttrs, NormsRMSNormGradInputs, NormsRMSNormInputs} from '../../src/kernel_names.js';
import {rmsView} from '../../src/norm_view.js';
import {callKernel, glslFloat, run, Scratch, type WebGLBackend} from './backend_util.js';

/** `[h, w]` with `h·w = n`, `h` the divisor nearest `sqrt(n)` (SwiftShader splits work by rows). */
function gridOf(n: number): [number, number] {
  let h = Math.floor(Math.sqrt(n));
  while (h > 1 && n % h !== 0) h--;
  return [h, n / h];
}

/** Loops over the texel columns of a `[rows, D]` packed input; `body` sees `int j` (even). */
function texelColumns(D: number, body: (j: string, lastOdd: boolean) => string): string {
  const even = D - (D % 2);
  return `for (int j = 0; j < ${even}; j += 2) { ${body('j', false)} }
        ${D % 2 === 1 ? `{ int j = ${D - 1}; ${body('j', true)} }` : ''}`;
}

/** A program on packed textures in and out (the class name identifies it in tests). */
abstract class PackedProgram implements GPGPUProgram {
  packedInputs = true;
  packedOutput = true;
  constructor(readonly variableNames: string[], readonly outputShape: number[], readonly userCode: string) {}
}

/** `invRms` of rows r, r+1: `(Σ_j x² / D + eps)^-1/2`, packed `[rows, 1]`. */
class RmsStatsProgram extends PackedProgram {
  constructor(rows: number, D: number, epsilon: number) {
    // The second column of the last texel of an odd D is padding.
    super(['x'], [rows, 1], `
      void main() {
        int r = getOutputCoords().x;
        vec2 s = vec2(0.0);
        ${texelColumns(D, (j, lastOdd) => lastOdd
          ? `vec4 t = getX(r, ${j}); s += t.xz * t.xz;`
          : `vec4 t = getX(r, ${j}); s += vec2(dot(t.xy, t.xy), dot(t.zw, t.zw));`)}
        vec2 inv = 1.0 / sqrt(s / ${glslFloat(D)} + ${glslFloat(epsilon)});
        setOutput(vec4(inv.x, 0.0, inv.y, 0.0));
      }`);
  }
}

/** `y = x · invRms[r] · gamma[c]`, packed in and out. */
class RmsApplyProgram extends PackedProgram {
  constructor(rows: number, D: number) {
    super(['x', 'inv', 'gamma'], [rows, D], `
      void main() {
        ivec2 rc = getOutputCoords();
        vec2 iv = getInv(rc.x, 0).xz;
        vec2 g = getGamma(rc.y).xy;
        setOutput(getX(rc.x, rc.y) * vec4(iv.x * g, iv.y * g));
      }`);
  }
}

/** `k = invRms³ · Σ_j dy·gamma·x / D` of rows r, r+1, packed `[rows, 1]`. */
class RmsGradRowProgram extends PackedProgram {
  constructor(rows: number, D: number) {
    super(['dy', 'x', 'gamma', 'inv'], [rows, 1], `
      void main() {
        int r = getOutputCoords().x;
        vec2 s = vec2(0.0);
        ${texelColumns(D, (j, lastOdd) => lastOdd
          ? `vec4 p = getDy(r, ${j}) * getX(r, ${j}) * getGamma(${j}).x; s += p.xz;`
          : `vec2 g = getGamma(${j}).xy; vec4 p = getDy(r, ${j}) * getX(r, ${j}) * vec4(g, g); s += p.xz + p.yw;`)}
        vec2 inv = getInv(r, 0).xz;
        vec2 k = inv * inv * inv * s / ${glslFloat(D)};
        setOutput(vec4(k.x, 0.0, k.y, 0.0));
      }`);
  }
}

/** `dx = invRms[r]·dy·gamma[c] − x·k[r]`, packed in and out. */
class RmsGradDxProgram extends PackedProgram {
  constructor(rows: number, D: number) {
    super(['dy', 'x', 'gamma', 'inv', 'k'], [rows, D], `
      void main() {
        ivec2 rc = getOutputCoords();
        vec2 iv = getInv(rc.x, 0).xz;
        vec2 kv = getK(rc.x, 0).xz;
        vec2 g = getGamma(rc.y).xy;
        setOutput(getDy(rc.x, rc.y) * vec4(iv.x * g, iv.y * g) - getX(rc.x, rc.y) * vec4(kv.xx, kv.yy));
      }`);
  }
}

/** Rows per block of the column reduction's first pass. */
const GAMMA_BLOCK = 64;

/**
 * `dgamma`'s first pass, packed `[blocks, D]`: `partial[b, c] = Σ dy·x·invRms` over the rows of
 * block `b`; each fragment sums two blocks × two columns, so every texel of dy and x is fetched
 * once.
 */
class RmsGradGammaPartialProgram extends PackedProgram {
  constructor(rows: number, D: number) {
    const blocks = Math.ceil(rows / GAMMA_BLOCK);
    // Rows past the end (a partial last block, or the block after the last) are skipped; the
    // second row of the last texel of an odd row count is padding.
    const guard = rows % (2 * GAMMA_BLOCK) !== 0;
    const sum = (row0: string, acc: string) => `
        for (int k = 0; k < ${GAMMA_BLOCK}; k += 2) {
          int r = ${row0} + k;
          ${guard ? `if (r >= ${rows}) break;` : ''}
          vec4 p = getDy(r, c) * getX(r, c);
          vec2 iv = getInv(r, 0).xz;
          ${rows % 2 === 1 ? `if (r + 1 >= ${rows}) { p.zw = vec2(0.0); iv.y = 0.0; }` : ''}
          ${acc} += p.xy * iv.x + p.zw * iv.y;
        }`;
    super(['dy', 'x', 'inv'], [blocks, D], `
      void main() {
        ivec2 oc = getOutputCoords();
        int c = oc.y;
        vec2 s0 = vec2(0.0);
        vec2 s1 = vec2(0.0);
        ${sum(`oc.x * ${GAMMA_BLOCK}`, 's0')}
        ${sum(`(oc.x + 1) * ${GAMMA_BLOCK}`, 's1')}
        setOutput(vec4(s0, s1));
      }`);
  }
}

/** `dgamma[c] = Σ_b partial[b, c]`, unpacked `[h, w]` (h·w = D) from the packed partial sums. */
class RmsGradGammaProgram implements GPGPUProgram {
  variableNames = ['p'];
  packedInputs = true;
  packedOutput = false;
  outputShape: number[];
  userCode: string;
  constructor(blocks: number, D: number) {
    const [h, w] = gridOf(D);
    this.outputShape = [h, w];
    const even = blocks - (blocks % 2);
    this.userCode = `
      void main() {
        ivec2 oc = getOutputCoords();
        int i = oc.x * ${w} + oc.y;
        bool right = i - (i / 2) * 2 == 1;
        float s = 0.0;
        for (int b = 0; b < ${even}; b += 2) {
          vec4 t = getP(b, i);
          s += right ? t.y + t.w : t.x + t.z;
        }
        ${blocks % 2 === 1 ? `{ vec4 t = getP(${blocks - 1}, i); s += right ? t.y : t.x; }` : ''}
        setOutput(s);
      }`;
  }
}

function reshape(b: WebGLBackend, sc: Scratch, x: TensorInfo, shape: number[]): TensorInfo {
  return sc.add(callKernel(b, 'Reshape', {x}, {shape}) as TensorInfo);
}

export function rmsNormWebGL(b: WebGLBackend, {x, gamma}: NormsRMSNormInputs, a: NormsRMSNormAttrs): TensorInfo[] {
  const {rows, D} = rmsView(x.shape, a.axisCount);
  const sc = new Scratch(b);
  try {
    const x2 = reshape(b, sc, x, [rows, D]);
    const g = reshape(b, sc, gamma, [D]);
    const inv = sc.add(run(b, new RmsStatsProgram(rows, D, a.epsilon), [x2]));
    const y = sc.add(run(b, new RmsApplyProgram(rows, D), [x2, inv, g]));
    return [sc.release(reshape(b, sc, y, x.shape)), sc.release(reshape(b, sc, inv, [rows]))];
  } finally {
    sc.dispose();
  }
}

export function rmsNormGradWebGL(b: WebGLBackend, {dy, x, invRms, gamma}: NormsRMSNormGradInputs, a: NormsRMSNormAttrs): TensorInfo[] {
  const {rows, D} = rmsView(x.shape, a.axisCount);
  const sc = new Scratch(b);
  try {
    const x2 = reshape(b, sc, x, [rows, D]);
    const dy2 = reshape(b, sc, dy, [rows, D]);
    const g = reshape(b, sc, gamma, [D]);
    const inv = reshape(b, sc, invRms, [rows, 1]);
    const k = sc.add(run(b, new RmsGradRowProgram(rows, D), [dy2, x2, g, inv]));
    const dx = sc.add(run(b, new RmsGradDxProgram(rows, D), [dy2, x2, g, inv, k]));
    const partial = sc.add(run(b, new RmsGradGammaPartialProgram(rows, D), [dy2, x2, inv]));
    const dgamma = sc.add(run(b, new RmsGradGammaProgram(partial.shape[0], D), [partial]));
    return [sc.release(reshape(b, sc, dx, x.shape)), sc.release(reshape(b, sc, dgamma, gamma.shape))];
  } finally {
    sc.dispose();
  }
}
