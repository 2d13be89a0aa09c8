/**
 * The in-browser side of the webgpu suite: @tensorflow/tfjs with tfjs-backend-webgpu, tfjs-norms
 * and its WGSL kernels, opened in headless Chromium by webgpu.test.ts, which calls
 * `window.normsWebgpu` and asserts on what it returns. Every check runs inside WebGPU error
 * scopes (an invalid shader only warns) and counts the tensors and buffers it leaves behind.
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import {webgpuKernelConfigs, webgpuKernelsRegistered} from '../../src/webgpu.js';
import {isCompositeKernel} from '../../kernels/composite/register_all.js';
import {prepareBackend} from '../../kernels/composite/install.js';
import {NORMS_COMPOSITE} from '../../src/flags.js';
import {NormsApply, NormsBackwardTraining} from '../../src/kernel_names.js';
import {checkCaseAsync, compare, type FixtureCase, type NormOps} from '../support/fixtures.js';
import {data, KERNEL_OUTPUT_NAMES, kernelOutputs, readAll, readSyncAll, type KernelCase} from '../support/kernel_outputs.js';
import {abnChecks, abnFixtures, expectThrow, sparseFixtures} from '../support/abn_sparse_checks.js';
import {ACTIVATION_VECTORS, runActivationRowAsync, type ActivationRow, type VectorResult} from '../support/activation_vectors.js';
import {guarded, type CheckResult} from '../webgl/guard.js';
import {ERROR_CASES, LEAK_OPS, type RmsCase} from './cases.js';
import {LEAK_RUNS as SHARED_LEAK_RUNS, type LeakRun} from '../support/leak_runs.js';
import {startWebgpu, withGpuErrors, type GpuEnv} from './gpu_env.js';

type T = tf.Tensor;

/** How the fixtures run: our kernels, with the two-kernel backward, or the composite path. */
export type Mode = 'fused' | 'split' | 'composite';

export interface CaseResult extends CheckResult {
  /** Buffers (data ids) left behind; must be 0. */
  leakedDataIds: number;
  /** Errors the WebGPU validation and internal scopes caught; must be empty. */
  gpuErrors: string[];
}

export interface ModeResult {
  /** Whether the composite kernels served the ops in this mode. */
  composite: boolean;
  results: Record<string, CaseResult>;
}

const dataIds = () => tf.backend().numDataIds();

/**
 * `guarded` (errors, leaked tensors) plus leaked data ids (one per backend buffer) and GPU errors.
 * webgpu's `numBytesInGPU` lags behind disposal (buffers still used by submitted work are released
 * later), so the data ids stand for the GPU memory here.
 */
async function check(f: () => string[] | Promise<string[]>): Promise<CaseResult> {
  const d0 = dataIds();
  const {value, gpuErrors} = await withGpuErrors(() => guarded(f));
  return {...value, leakedBytes: 0, leakedDataIds: dataIds() - d0, gpuErrors};
}

async function checkAll<C>(items: C[], name: (c: C) => string, f: (c: C) => string[] | Promise<string[]>):
    Promise<Record<string, CaseResult>> {
  const out: Record<string, CaseResult> = {};
  for (const c of items) out[name(c)] = await check(() => f(c));
  return out;
}

async function setup(): Promise<GpuEnv & {kernelsRegistered: boolean; registered: string[]}> {
  const env = await startWebgpu();
  return {...env, kernelsRegistered: webgpuKernelsRegistered,
    registered: webgpuKernelConfigs.filter((k) => tf.getKernel(k.kernelName, 'webgpu') === k).map((k) => k.kernelName)};
}

async function runCases(cases: FixtureCase[]): Promise<ModeResult> {
  prepareBackend('webgpu');
  const composite = isCompositeKernel(tf.getKernel(NormsApply, 'webgpu'));
  return {composite, results: await checkAll(cases, (c) => c.name, (c) => checkCaseAsync(tf, norms as unknown as NormOps, c))};
}

/** The PyTorch fixtures in one mode (the kernels are restored afterwards). */
async function runFixtures(cases: FixtureCase[], mode: Mode): Promise<ModeResult> {
  if (mode === 'fused') return runCases(cases);
  if (mode === 'composite') {
    tf.env().set(NORMS_COMPOSITE, true);
    try {
      return await runCases(cases);
    } finally {
      tf.env().set(NORMS_COMPOSITE, false);
    }
  }
  const fused = tf.getKernel(NormsBackwardTraining, 'webgpu')!;
  tf.unregisterKernel(NormsBackwardTraining, 'webgpu');
  try {
    return await runCases(cases);
  } finally {
    tf.registerKernel(fused);
  }
}

async function onCpu<R>(f: () => R): Promise<R> {
  await tf.setBackend('cpu');
  try {
    return f();
  } finally {
    await tf.setBackend('webgpu');
  }
}

/** Per case, the outputs of `outputs` on webgpu against the same on cpu (`names`: the outputs' names). */
async function againstCpu<C extends {name: string}>(cases: C[], outputs: (c: C) => T[], names: readonly string[]):
    Promise<Record<string, CaseResult>> {
  const out: Record<string, CaseResult> = {};
  for (const c of cases) {
    const want = await onCpu(() => readSyncAll(outputs(c)));
    out[c.name] = await check(async () => {
      const got = await readAll(outputs(c));
      if (got.length !== want.length) return [`${got.length} outputs, expected ${want.length}`];
      return got.flatMap((g, i) => compare(names[i], g, {shape: [want[i].length], data: Array.from(want[i])}));
    });
  }
  return out;
}

/** Every kernel called directly (incl. the backward from In-Place ABN's y), against the cpu kernels. */
const runKernels = (cases: KernelCase[]) => againstCpu(cases, kernelOutputs, KERNEL_OUTPUT_NAMES);

/** `y`, `dx`, `dgamma` of rmsNorm on the active backend for `dy`. */
function rmsOutputs(c: RmsCase): T[] {
  return tf.tidy(() => {
    const size = c.shape.reduce((p, d) => p * d, 1);
    const pshape = c.shape.slice(c.shape.length - c.axisCount);
    const axes = pshape.map((_, i) => i - c.axisCount);
    const x = tf.tensor(data(size, 21, 1, 0.2), c.shape);
    const gamma = tf.tensor(data(pshape.reduce((p, d) => p * d, 1), 22, 0.5, 1), pshape);
    const dy = tf.tensor(data(size, 23), c.shape);
    const f = (a: T, g: T) => norms.rmsNorm(a, {gamma: g, axes});
    return [f(x, gamma), ...tf.grads(f)([x, gamma], dy)];
  });
}

/** RMSNorm on shapes that take its kernels' other schemes, against the cpu kernels. */
const runRms = (cases: RmsCase[]) => againstCpu(cases, rmsOutputs, ['y', 'dx', 'dgamma']);

/** Forward, tf.grads and tf.variableGrads of each op, everything disposed: nothing may be left. */
const LEAK_RUNS: LeakRun[] = [...SHARED_LEAK_RUNS,
  ['inplaceABN', [6, 4], (x, g, b) => { const r = norms.inplaceABN(x, {training: true, gamma: g, beta: b}); return [r.y, r.mean, r.variance]; }, 1],
];

async function runLeaks(): Promise<Record<string, CaseResult>> {
  const out: Record<string, CaseResult> = {};
  for (const [name, shape, run, axis] of LEAK_RUNS) {
    if (!LEAK_OPS.includes(name)) throw new Error(`leak check '${name}' is not listed in cases.ts`);
    const C = shape[axis];
    const make = () => [tf.randomNormal(shape), tf.randomNormal([C]), tf.randomNormal([C])];
    out[`${name}: forward`] = await check(() => {
      const [x, g, b] = make();
      // tidy: the inference case makes its statistics inline.
      tf.dispose(tf.tidy(() => run(x, g, b)));
      tf.dispose([x, g, b]);
      return [];
    });
    out[`${name}: tf.grads`] = await check(async () => {
      const [x, g, b] = make();
      const gs = tf.grads((xx: T, gg: T, bb: T) => tf.sum(tf.square(run(xx, gg, bb)[0])))([x, g, b]);
      await Promise.all(gs.map((t) => t.data()));
      tf.dispose([...gs, x, g, b]);
      return [];
    });
    out[`${name}: tf.variableGrads`] = await check(() => {
      const [x, g0, b0] = make();
      const g = tf.variable(g0);
      const b = tf.variable(b0);
      const {value, grads} = tf.variableGrads(() => tf.sum(run(x, g, b)[0]) as tf.Scalar, [g, b]);
      tf.dispose([value, ...Object.values(grads), x, g0, b0, g, b]);
      return [];
    });
  }
  return out;
}

/** Bad input: the same clear error on webgpu as on cpu (the ops validate before any kernel runs). */
const ERROR_CALLS: Array<[string, () => unknown, RegExp]> = [
  ['rank 1', () => norms.batchNorm(tf.ones([4]), {training: true}), /batchNorm: 'x' must have rank 2 to 5/],
  ['int32 x', () => norms.layerNorm(tf.ones([2, 3], 'int32')), /layerNorm: 'x' must be a float32 tensor, got int32/],
  ['gamma shape', () => norms.batchNorm(tf.ones([2, 3, 4, 4]), {training: true, dataFormat: 'NCHW', gamma: tf.ones([4])}),
    /batchNorm: 'gamma' must have shape \[3\]/],
  ['groups not dividing', () => norms.groupNorm(tf.ones([2, 3, 4, 4]), {groups: 3}), /groupNorm: 'groups' \(3\) must divide/],
  ['single value per channel', () => norms.batchNorm(tf.ones([1, 3]), {training: true}),
    /batchNorm: expected more than 1 value per channel when training/],
  ['single spatial element', () => norms.instanceNorm(tf.ones([2, 1, 1, 3])), /instanceNorm: expected more than 1 spatial element/],
  ['relu from the output', () => norms.inplaceABN(tf.ones([4, 3]), {training: true, activation: 'relu' as never}),
    /inplaceABN: 'activation'/],
  ['disposed x', () => { const t = tf.ones([2, 3]); t.dispose(); return norms.layerNorm(t); }, /layerNorm: 'x' is disposed/],
];

async function runErrors(): Promise<Record<string, CaseResult>> {
  const unlisted = ERROR_CALLS.filter(([n]) => !ERROR_CASES.includes(n));
  if (unlisted.length > 0) throw new Error(`error cases not listed in cases.ts: ${unlisted.map(([n]) => n)}`);
  return checkAll(ERROR_CALLS, ([name]) => name, ([, f, re]) => expectThrow(() => tf.tidy(() => { f(); }), re));
}

/** inplaceABN and sparseBatchNorm through the PyTorch batch-norm fixtures, and In-Place ABN's specifics. */
async function runAbnSparse(abn: FixtureCase[], sparse: FixtureCase[]): Promise<Record<string, Record<string, CaseResult>>> {
  const wrap = async (f: () => Promise<Record<string, CheckResult>>) => {
    const d0 = dataIds();
    const {value, gpuErrors} = await withGpuErrors(f);
    const leakedDataIds = dataIds() - d0;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, {...v, leakedBytes: 0, leakedDataIds, gpuErrors}]));
  };
  return {abn: await wrap(() => abnFixtures(abn)), sparse: await wrap(() => sparseFixtures(sparse)),
    abnChecks: await wrap(() => abnChecks())};
}

export interface ActivationResult {
  results: VectorResult[];
  error?: string;
  backend: string;
  gpuErrors: string[];
}

/** Each value four times: `C % 4 == 0`, so the elementwise programs take their vector form. */
const asVectors = (r: ActivationRow): ActivationRow => ({...r, z: r.z.flatMap((v) => [v, v, v, v]), y: r.y.flatMap((v) => [v, v, v, v])});

/** The activation vector table through the WGSL kernels, in their scalar and their vector form. */
async function runActivationVectors(): Promise<Record<string, ActivationResult>> {
  const out: Record<string, ActivationResult> = {};
  for (const [form, rows] of [['scalar', ACTIVATION_VECTORS], ['vector', ACTIVATION_VECTORS.map(asVectors)]] as const) {
    for (const row of rows) {
      const key = `${row.activation} (alpha ${row.alpha}), ${form}`;
      const {value, gpuErrors} = await withGpuErrors(async () => {
        try {
          return {results: await runActivationRowAsync(tf, (n, i, a) => tf.engine().runKernel(n, i, a as never), row)};
        } catch (e) {
          return {results: [], error: (e as Error).stack ?? String(e)};
        }
      });
      out[key] = {...value, backend: tf.getBackend(), gpuErrors};
    }
  }
  return out;
}

const api = {setup, runActivationVectors, runFixtures, runKernels, runRms, runLeaks, runErrors, runAbnSparse};

declare global {
  interface Window {
    normsWebgpu: typeof api;
  }
}

window.normsWebgpu = api;
