/**
 * The in-browser side of the RMSNorm webgl suite: fixtures, webgl-specific shapes and input
 * textures against the cpu backend, the composite path, and leaks. Bundled and opened by
 * rms_norm.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import '../../src/webgl.js';
import {compositeKernelConfigs} from '../../kernels/composite/register_all.js';
import {NormsRMSNorm, NormsRMSNormGrad} from '../../src/kernel_names.js';
import {checkCase, compare, type FixtureCase, type NormOps} from '../support/fixtures.js';
import {type CheckResult, guardedSync, startWebgl} from './guard.js';

type T = tf.Tensor;

export interface RmsSpecial {
  name: string;
  shape: number[];
  axes?: number[];
  input: 'upload' | 'packed' | 'unpacked';
  scale?: number;
}

function data(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  const a = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    a[i] = offset + scale * (s / 4294967296 - 0.5) * 2;
  }
  return a;
}

function makeInput(v: Float32Array, shape: number[], kind: RmsSpecial['input']): T {
  if (kind === 'upload') return tf.tensor(v, shape);
  const saved = tf.env().getBool('WEBGL_PACK_BINARY_OPERATIONS');
  tf.env().set('WEBGL_PACK_BINARY_OPERATIONS', kind === 'packed');
  const t = tf.tidy(() => tf.add(tf.tensor(v, shape), 0));
  tf.env().set('WEBGL_PACK_BINARY_OPERATIONS', saved);
  return t;
}

/** y, dx, dgamma of sum(rmsNorm(x)·dy) on the active backend. */
function evaluate(c: RmsSpecial, kind: RmsSpecial['input']): Float32Array[] {
  const size = c.shape.reduce((a, b) => a * b, 1);
  const k = c.axes?.length ?? 1;
  const pshape = c.shape.slice(c.shape.length - k);
  const x = makeInput(data(size, 1, c.scale ?? 1, 0.2), c.shape, kind);
  const gamma = tf.tensor(data(pshape.reduce((a, b) => a * b, 1), 2, 0.5, 1), pshape);
  const dy = tf.tensor(data(size, 3), c.shape);
  try {
    const f = (a: T, g: T) => norms.rmsNorm(a, {gamma: g, ...(c.axes ? {axes: c.axes} : {})});
    const y = f(x, gamma);
    const res = [y.dataSync() as Float32Array];
    y.dispose();
    const gs = tf.grads(f)([x, gamma], dy);
    res.push(...gs.map((t) => t.dataSync() as Float32Array));
    tf.dispose(gs);
    return res;
  } finally {
    tf.dispose([x, gamma, dy]);
  }
}

async function runSpecial(cases: RmsSpecial[]): Promise<Record<string, CheckResult>> {
  const out: Record<string, CheckResult> = {};
  for (const c of cases) {
    await tf.setBackend('cpu');
    const want = evaluate(c, 'upload');
    await tf.setBackend('webgl');
    out[c.name] = guardedSync(() => {
      const got = evaluate(c, c.input);
      return got.flatMap((g, i) => compare(`${c.name}.${['y', 'dx', 'dgamma'][i]}`, g,
          {shape: [want[i].length], data: Array.from(want[i])}, 1e-4, 1e-4));
    });
  }
  return out;
}

function runFixtures(cases: FixtureCase[]): Record<string, CheckResult> {
  const out: Record<string, CheckResult> = {};
  for (const c of cases) out[c.name] = guardedSync(() => checkCase(tf, norms as unknown as NormOps, c));
  return out;
}

/**
 * The fixtures again through the composite kernels (tfjs's webgl kernels only), registered in
 * place of the fused ones: the path taken where float32 render targets or WebGL 2 are missing.
 */
function runComposite(cases: FixtureCase[]): Record<string, CheckResult> {
  const names = [NormsRMSNorm, NormsRMSNormGrad];
  const fused = names.map((n) => tf.getKernel(n, 'webgl')!);
  names.forEach((n) => tf.unregisterKernel(n, 'webgl'));
  compositeKernelConfigs('webgl').filter((k) => names.includes(k.kernelName)).forEach((k) => tf.registerKernel(k));
  try {
    return runFixtures(cases);
  } finally {
    names.forEach((n) => tf.unregisterKernel(n, 'webgl'));
    fused.forEach((k) => tf.registerKernel(k));
  }
}

/** The programs a forward + backward step runs (one webgl program per pass: no transposes). */
function programsOfStep(): string[] {
  const x = tf.randomNormal([4, 6, 8]);
  const g = tf.ones([8]);
  const seen: string[] = [];
  const b = tf.backend() as unknown as {runWebGLProgram: (p: object, ...r: unknown[]) => unknown};
  const orig = b.runWebGLProgram;
  b.runWebGLProgram = function(p: object, ...r: unknown[]) {
    seen.push(p.constructor.name);
    return orig.call(this, p, ...r);
  };
  try {
    const gs = tf.grads((a: T, gg: T) => norms.rmsNorm(a, {gamma: gg}))([x, g]);
    tf.dispose(gs);
  } finally {
    b.runWebGLProgram = orig;
    tf.dispose([x, g]);
  }
  return seen;
}

const api = {startWebgl, runSpecial, runFixtures, runComposite, programsOfStep};

declare global {
  interface Window {
    rmsTest: typeof api;
  }
}

window.rmsTest = api;
