/**
 * The in-browser side of the webgl suite: bundled with @tensorflow/tfjs, tfjs-norms (cpu and
 * webgl kernels) and the fixture checker, opened in headless Chromium by the jest tests, which
 * call the functions on `window.normsTest` and assert on what they return.
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import '../../src/webgl.js';
import {webglKernelsRegistered} from '../../src/webgl.js';
import {NormsBackwardTraining} from '../../src/kernel_names.js';
import {webglKernelConfigs} from '../../kernels/webgl/register_all.js';
import {resetFallbackWarning} from '../../kernels/webgl/backend_util.js';
import {ACTIVATION_VECTORS, runActivationRow, type VectorResult} from '../support/activation_vectors.js';
import {checkCase, compare, type FixtureCase, type NormOps} from '../support/fixtures.js';
import {type CheckResult, guardedSync} from './guard.js';
import {LEAK_RUNS} from '../support/leak_runs.js';
import {data, KERNEL_OUTPUT_NAMES, kernelOutputs, readSyncAll, type KernelCase} from '../support/kernel_outputs.js';

type T = tf.Tensor;

export interface EnvInfo {
  backend: string;
  webglVersion: number;
  float32Enabled: boolean;
  float32Capable: boolean;
  maxTextureSize: number;
  kernelsRegistered: boolean;
  registered: string[];
}

export type CaseResult = CheckResult;

const ops = norms as unknown as NormOps;

async function setup(flags: Record<string, boolean | number> = {}): Promise<EnvInfo> {
  for (const [k, v] of Object.entries(flags)) tf.env().set(k, v);
  await tf.setBackend('webgl');
  await tf.ready();
  return envInfo();
}

function envInfo(): EnvInfo {
  return {
    backend: tf.getBackend(),
    webglVersion: tf.env().getNumber('WEBGL_VERSION'),
    float32Enabled: tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED'),
    float32Capable: tf.env().getBool('WEBGL_RENDER_FLOAT32_CAPABLE'),
    maxTextureSize: tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE'),
    kernelsRegistered: webglKernelsRegistered,
    registered: webglKernelConfigs.filter((k) => tf.getKernel(k.kernelName, 'webgl') != null).map((k) => k.kernelName),
  };
}

/** The PyTorch fixture cases on webgl; `split` runs them with the fused backward unregistered. */
function runFixtures(cases: FixtureCase[], split = false): Record<string, CaseResult> {
  const fused = webglKernelConfigs.find((k) => k.kernelName === NormsBackwardTraining)!;
  if (split) tf.unregisterKernel(NormsBackwardTraining, 'webgl');
  try {
    const out: Record<string, CaseResult> = {};
    for (const c of cases) out[c.name] = guardedSync(() => checkCase(tf, ops, c));
    return out;
  } finally {
    if (split) tf.registerKernel(fused);
  }
}

// ---------------------------------------------------------------------------------------------
// Webgl-specific cases, compared with the cpu backend in the same page.

/** How the main input's texture is made before the op sees it. */
export type InputKind = 'upload' | 'unpacked' | 'packed' | 'slice' | 'reshaped';

function makeInput(values: Float32Array, shape: number[], kind: InputKind): T {
  switch (kind) {
    case 'unpacked': {
      // An unpacked texture: the result of an unpacked program.
      const saved = tf.env().getBool('WEBGL_PACK_BINARY_OPERATIONS');
      tf.env().set('WEBGL_PACK_BINARY_OPERATIONS', false);
      const t = tf.tidy(() => tf.add(tf.tensor(values, shape), 0));
      tf.env().set('WEBGL_PACK_BINARY_OPERATIONS', saved);
      return t;
    }
    case 'packed':
      return tf.tidy(() => tf.add(tf.tensor(values, shape), 0));
    case 'slice': {
      // A shallow slice (texture shared with an offset) of a larger unpacked tensor.
      const size = values.length;
      const big = new Float32Array(size + 7);
      big.set(values, 7);
      return tf.tidy(() => {
        const saved = tf.env().getBool('WEBGL_PACK_BINARY_OPERATIONS');
        tf.env().set('WEBGL_PACK_BINARY_OPERATIONS', false);
        const b = tf.add(tf.tensor1d(big), 0);
        tf.env().set('WEBGL_PACK_BINARY_OPERATIONS', saved);
        return tf.reshape(tf.slice(b, 7, size), shape);
      });
    }
    case 'reshaped': {
      // A packed texture made for another shape with the same last dimension.
      const last = shape[shape.length - 1];
      return tf.tidy(() => tf.reshape(tf.add(tf.tensor(values, [values.length / last, last]), 0), shape));
    }
    default:
      return tf.tensor(values, shape);
  }
}

/**
 * A dimension given relative to the context's texture size limit: 'T' = 2·WEBGL_MAX_TEXTURE_SIZE
 * (a packed texture row or column of exactly the maximum size), 'T+2' just past it (tfjs then
 * squarifies the texture).
 */
export type LimitDim = number | 'T' | 'T+2';

export interface SpecialCase {
  name: string;
  op: 'batchNorm' | 'layerNorm' | 'groupNorm' | 'instanceNorm';
  shape: number[];
  /** Overrides `shape`, resolved in the page against the texture size limit. */
  limitShape?: LimitDim[];
  opts: Record<string, unknown>;
  input?: InputKind;
  /** Data offset (e.g. 1000 for the exact-mean check) and scale. */
  offset?: number;
  scale?: number;
  /** Also compare gradients (default true). */
  grads?: boolean;
  /** Relative tolerance (default 1e-4, as the fixtures). */
  rtol?: number;
}

function channelCount(c: SpecialCase): number[] {
  if (c.op === 'layerNorm') {
    const axes = (c.opts.axes as number[] | undefined) ?? [-1];
    return c.shape.slice(c.shape.length - axes.length);
  }
  const nchw = c.opts.dataFormat === 'NCHW' && c.shape.length > 2;
  return [c.shape[nchw ? 1 : c.shape.length - 1]];
}

function runOp(c: SpecialCase, x: T, gamma: T, beta: T): T[] {
  const o = {...c.opts, gamma, beta} as Record<string, unknown>;
  if (c.op === 'batchNorm' && c.opts.training === false) {
    const C = gamma.size;
    o.mean = tf.tensor1d(data(C, 5));
    o.variance = tf.tensor1d(data(C, 6, 0.3, 1));
  }
  switch (c.op) {
    case 'batchNorm': {
      const r = norms.batchNorm(x, o as never);
      return [r.y, r.mean, r.variance];
    }
    case 'layerNorm': return [norms.layerNorm(x, o as never)];
    case 'groupNorm': return [norms.groupNorm(x, o as never)];
    default: return [norms.instanceNorm(x, o as never)];
  }
}

/** Forward outputs and gradients (x, gamma, beta) of sum(y·dy) on the active backend. */
function evaluate(c: SpecialCase, kind: InputKind): Float32Array[] {
  const size = c.shape.reduce((a, b) => a * b, 1);
  const pshape = channelCount(c);
  const psize = pshape.reduce((a, b) => a * b, 1);
  const xv = data(size, 1, c.scale ?? 1, c.offset ?? 0);
  const x = makeInput(xv, c.shape, kind);
  const gamma = tf.tensor(data(psize, 2, 0.5, 1), pshape);
  const beta = tf.tensor(data(psize, 3, 0.5, 0), pshape);
  const dy = tf.tensor(data(size, 4), c.shape);
  try {
    const outs = tf.tidy(() => runOp(c, x, gamma, beta));
    const res = outs.map((t) => t.dataSync() as Float32Array);
    tf.dispose(outs);
    if (c.grads !== false) {
      // The upstream gradient is passed, not taken from sum(y·dy): webgl's Sum fails on empty tensors.
      const g = tf.grads((a: T, b: T, d: T) => runOp(c, a, b, d)[0]);
      const gs = g([x, gamma, beta], dy);
      res.push(...gs.map((t) => t.dataSync() as Float32Array));
      tf.dispose(gs);
    }
    return res;
  } finally {
    tf.dispose([x, gamma, beta, dy]);
  }
}

async function onBackend<R>(name: string, f: () => R): Promise<R> {
  await tf.setBackend(name);
  try {
    return f();
  } finally {
    await tf.setBackend('webgl');
  }
}

function diff(c: SpecialCase, got: Float32Array[], want: Float32Array[], rtol: number): string[] {
  const name = c.name;
  if (got.length !== want.length) return [`${name}: ${got.length} outputs, expected ${want.length}`];
  const labels = [...(c.op === 'batchNorm' ? ['y', 'mean', 'variance'] : ['y']), 'dx', 'dgamma', 'dbeta'];
  const bad: string[] = [];
  got.forEach((g, i) => {
    // A batch mean of zero-mean data is ~0: judge it against the data's scale (float32 sums of
    // 10^6 values carry ~1e-7·scale), not relative to itself.
    const absFloor = labels[i] === 'mean' ? 1e-6 * (c.scale ?? 1) : 0;
    bad.push(...compare(`${name}.${labels[i] ?? i}`, g, {shape: [want[i].length], data: Array.from(want[i])}, rtol, rtol, absFloor));
  });
  return bad;
}

function resolveShape(dims: LimitDim[]): number[] {
  const T = 2 * tf.env().getNumber('WEBGL_MAX_TEXTURE_SIZE');
  return dims.map((d) => (d === 'T' ? T : d === 'T+2' ? T + 2 : d));
}

async function runSpecial(cases: SpecialCase[]): Promise<Record<string, CaseResult>> {
  const out: Record<string, CaseResult> = {};
  for (const c0 of cases) {
    const c = c0.limitShape ? {...c0, shape: resolveShape(c0.limitShape)} : c0;
    let want: Float32Array[];
    try {
      want = await onBackend('cpu', () => evaluate(c, 'upload'));
    } catch (e) {
      out[c.name] = {bad: [], leakedTensors: 0, leakedBytes: 0, error: `cpu reference failed: ${(e as Error).message}`};
      continue;
    }
    out[c.name] = guardedSync(() => diff(c, evaluate(c, c.input ?? 'upload'), want, c.rtol ?? 1e-4));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Kernels called directly: moments, backward from the output, inference apply with a shift.

async function runKernels(cases: KernelCase[]): Promise<Record<string, CaseResult>> {
  const out: Record<string, CaseResult> = {};
  for (const k of cases) {
    const want = await onBackend('cpu', () => readSyncAll(kernelOutputs(k)));
    out[k.name] = guardedSync(() => {
      const got = readSyncAll(kernelOutputs(k));
      if (got.length !== want.length) return [`${got.length} outputs, expected ${want.length}`];
      return got.flatMap((g, i) => compare(KERNEL_OUTPUT_NAMES[i], g, {shape: [want[i].length], data: Array.from(want[i])}));
    });
  }
  return out;
}

/** Leaks of tensors and GPU bytes through forward, tf.grads and tf.variableGrads of each op. */
function runLeaks(): Record<string, CaseResult> {
  const out: Record<string, CaseResult> = {};
  const cases = LEAK_RUNS;
  for (const [name, shape, f, axis] of cases) {
    const C = shape[axis];
    const x = tf.randomNormal(shape);
    const g = tf.randomNormal([C]);
    const b = tf.randomNormal([C]);
    // Moves the inputs to the GPU first: their textures are theirs, not a leak.
    tf.dispose(tf.tidy(() => f(x, g, b).map((t) => tf.clone(t))));
    out[`${name}: forward`] = guardedSync(() => {
      const r = tf.tidy(() => f(x, g, b).map((t) => tf.clone(t)));
      r.forEach((t) => t.dataSync());
      tf.dispose(r);
      return [];
    });
    out[`${name}: tf.grads`] = guardedSync(() => {
      const gs = tf.grads((a: T, c: T, d: T) => tf.sum(tf.square(f(a, c, d)[0])))([x, g, b]);
      gs.forEach((t) => t.dataSync());
      tf.dispose(gs);
      return [];
    });
    out[`${name}: tf.variableGrads`] = guardedSync(() => {
      const xv = tf.variable(x);
      const {value, grads} = tf.variableGrads(() => tf.sum(tf.square(f(xv, g, b)[0])) as tf.Scalar, [xv]);
      Object.values(grads).forEach((t) => t.dataSync());
      tf.dispose([value, ...Object.values(grads)]);
      xv.dispose();
      return [];
    });
    tf.dispose([x, g, b]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Which programs an op's forward and backward run: the big tensors are read in place (no
// transpose or other full-size intermediate), and only y and dx are written at full size.

export interface PassCase {
  name: string;
  op: 'batchNorm' | 'layerNorm' | 'groupNorm' | 'instanceNorm';
  shape: number[];
  opts: Record<string, unknown>;
}

export interface PassResult {
  /** Engine kernels run by the forward and the gradient. */
  kernels: string[];
  /** Every WebGL program run, as `ClassName:outputSize`. */
  programs: string[];
  /** Programs whose output is as large as x. */
  fullSize: string[];
  error?: string;
}

async function runPasses(cases: PassCase[]): Promise<Record<string, PassResult>> {
  const backend = tf.backend() as unknown as {runWebGLProgram: (...a: unknown[]) => unknown};
  const engine = tf.engine() as unknown as {runKernel: (...a: unknown[]) => unknown};
  // Both are prototype methods: the wrappers below shadow them on the instances for one step.
  const origProgram = backend.runWebGLProgram;
  const origKernel = engine.runKernel;
  const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
  if (own(backend, 'runWebGLProgram') || own(engine, 'runKernel')) {
    throw new Error('runWebGLProgram / runKernel are already wrapped');
  }
  const out: Record<string, PassResult> = {};
  for (const c of cases) {
    const pshape = channelCount(c);
    const x = tf.tidy(() => tf.add(tf.randomNormal(c.shape), 0));
    const dy = tf.tidy(() => tf.add(tf.randomNormal(c.shape), 0));
    const gamma = tf.randomNormal(pshape);
    const beta = tf.randomNormal(pshape);
    const step = () => {
      const {value, grads} = tf.engine().gradients(() => runOp(c, x, gamma, beta)[0], [x, gamma, beta], dy);
      tf.dispose([value, ...grads]);
    };
    const r: PassResult = {kernels: [], programs: [], fullSize: []};
    try {
      step();  // uploads gamma and beta, compiles the programs
      backend.runWebGLProgram = function (this: unknown, ...a: unknown[]) {
        const p = a[0] as {constructor: {name: string}; outputShape: number[]};
        const size = p.outputShape.reduce((u, v) => u * v, 1);
        r.programs.push(`${p.constructor.name}:${size}`);
        if (size >= x.size) r.fullSize.push(p.constructor.name);
        return origProgram.apply(this, a);
      };
      engine.runKernel = function (this: unknown, ...a: unknown[]) {
        r.kernels.push(a[0] as string);
        return origKernel.apply(this, a);
      };
      step();
    } catch (e) {
      r.error = (e as Error).stack ?? String(e);
    } finally {
      // The wrappers were own properties shadowing the prototypes' methods.
      delete (backend as Partial<typeof backend>).runWebGLProgram;
      delete (engine as Partial<typeof engine>).runKernel;
      tf.dispose([x, dy, gamma, beta]);
    }
    out[c.name] = r;
  }
  return out;
}

/** The same op on cpu and on the active webgl backend (e.g. with float32 rendering forced off). */
async function runFallback(cases: SpecialCase[]): Promise<{results: Record<string, CaseResult>; warnings: string[]}> {
  const warnings: string[] = [];
  const orig = console.warn;
  console.warn = (...args: unknown[]) => { warnings.push(args.map(String).join(' ')); orig(...args); };
  resetFallbackWarning();
  try {
    return {results: await runSpecial(cases), warnings};
  } finally {
    console.warn = orig;
  }
}

/** The activation vector table (test/support/activation_vectors.ts) through the webgl kernels. */
function runActivationVectors(): Record<string, {results: VectorResult[]; error?: string; backend: string}> {
  const out: Record<string, {results: VectorResult[]; error?: string; backend: string}> = {};
  for (const row of ACTIVATION_VECTORS) {
    const key = `${row.activation} (alpha ${row.alpha})`;
    try {
      out[key] = {results: runActivationRow(tf, (n, i, a) => tf.engine().runKernel(n, i, a as never), row),
        backend: tf.getBackend()};
    } catch (e) {
      out[key] = {results: [], error: (e as Error).stack ?? String(e), backend: tf.getBackend()};
    }
  }
  return out;
}

declare global {
  interface Window {
    normsTest: typeof api;
  }
}

const api = {setup, envInfo, runFixtures, runSpecial, runKernels, runLeaks, runFallback, runPasses, runActivationVectors};
window.normsTest = api;
