/**
 * The WGSL kernels in headless Chromium (Debian's /usr/bin/chromium with WebGPU on the SwiftShader
 * adapter: --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader). Every PyTorch fixture,
 * forward and backward, with our webgpu kernels (fused and two-kernel backward) and with the
 * composite path (TFJS_NORMS_COMPOSITE); every kernel called directly against the cpu kernels
 * (incl. the backward from In-Place ABN's y); inplaceABN and sparseBatchNorm; leaks; errors.
 * Each check also fails on any WebGPU validation or internal error (an invalid shader does not
 * throw). Fails, never skips, when Chromium, WebGPU or the webgpu backend is missing.
 */
import {buildPage, openPage, type BrowserPage} from '../../bench/browser/driver.js';
import {FIXTURE_FILES, loadFixtures} from '../support/load.js';
import type {CaseResult, Mode, ModeResult} from './page.js';
import {ERROR_CASES, LEAK_CHECKS, RMS_CASES, WEBGPU_KERNEL_CASES} from './cases.js';

// RMSNorm's too (its WGSL kernels, kernels/webgpu/rms_norm.ts).
const cases = [...FIXTURE_FILES, 'rms_norm'].flatMap((f) => loadFixtures(f).cases);
const bnCases = loadFixtures('batch_norm').cases;
const abnCases = bnCases.filter((c) => c.opts.activation !== 'relu');
const sparseCases = bnCases.filter((c) => c.inputs.x!.shape.length === 2 && c.opts.dataFormat !== 'NCHW');
const MODES: Mode[] = ['fused', 'split', 'composite'];
const training = (m: Mode) => (m === 'split' ? cases.filter((c) => c.op !== 'batchNorm' || c.opts.training) : cases);

let bp: BrowserPage | undefined;
let env: {backend: string; vendor: string; architecture: string; kernelsRegistered: boolean; registered: string[]};
const runs = new Map<Mode, ModeResult>();
let kernels: Record<string, CaseResult> = {};
let rms: Record<string, CaseResult> = {};
let leaks: Record<string, CaseResult> = {};
let errors: Record<string, CaseResult> = {};
let abnSparse: Record<string, Record<string, CaseResult>> = {};

beforeAll(async () => {
  const html = await buildPage('test/webgpu/page.ts', '.cache/webgpu-test/main');
  bp = await openPage(html, undefined, {webgpu: true});
  const page = bp.page;
  try {
    env = await page.evaluate(() => window.normsWebgpu.setup());
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${bp.log.join('\n')}`);
  }
  for (const mode of MODES) {
    runs.set(mode, await page.evaluate(([cs, m]) => window.normsWebgpu.runFixtures(cs, m), [training(mode), mode] as const));
  }
  kernels = await page.evaluate((ks) => window.normsWebgpu.runKernels(ks), WEBGPU_KERNEL_CASES);
  rms = await page.evaluate((cs) => window.normsWebgpu.runRms(cs), RMS_CASES);
  leaks = await page.evaluate(() => window.normsWebgpu.runLeaks());
  errors = await page.evaluate(() => window.normsWebgpu.runErrors());
  abnSparse = await page.evaluate(([a, s]) => window.normsWebgpu.runAbnSparse(a, s), [abnCases, sparseCases] as const);
}, 1_200_000);

afterAll(async () => {
  await bp?.close();
});

function expectCase(r: CaseResult | undefined): void {
  expect(r).toBeDefined();
  expect(r!.error ?? null).toBeNull();
  expect(r!.gpuErrors).toEqual([]);
  expect(r!.bad).toEqual([]);
  expect(r!.leakedTensors).toBe(0);
  expect(r!.leakedBytes).toBe(0);
  expect(r!.leakedDataIds).toBe(0);
}

test('the webgpu backend runs on a WebGPU adapter with our kernels registered', () => {
  expect(env.backend).toBe('webgpu');
  expect(env.kernelsRegistered).toBe(true);
  expect(env.registered).toEqual(['NormsMoments', 'NormsApply', 'NormsNormalizeTraining', 'NormsBackwardReduce',
    'NormsBackwardApply', 'NormsBackwardTraining', 'NormsRMSNorm', 'NormsRMSNormGrad']);
});

describe.each(MODES)('PyTorch fixtures on webgpu, %s', (mode) => {
  test('the ops run the expected kernels', () => {
    expect(runs.get(mode)!.composite).toBe(mode === 'composite');
  });
  test.each(training(mode).map((c) => [c.name]))('%s', (name) => expectCase(runs.get(mode)!.results[name]));
});

describe('every kernel called directly (incl. backward from the output y), against the cpu kernels', () => {
  test.each(WEBGPU_KERNEL_CASES.map((c) => [c.name]))('%s', (name) => expectCase(kernels[name]));
});

describe('RMSNorm (y, dx, dgamma) on shapes beyond the fixtures, against the cpu kernels', () => {
  test.each(RMS_CASES.map((c) => [c.name]))('%s', (name) => expectCase(rms[name]));
});

describe('inplaceABN on the batch-norm fixtures', () => {
  test.each(abnCases.map((c) => [c.name]))('%s', (name) => expectCase(abnSparse.abn[name]));
});

describe('sparseBatchNorm on the batch-norm fixtures (values matrix)', () => {
  test.each(sparseCases.map((c) => [c.name]))('%s', (name) => expectCase(abnSparse.sparse[name]));
});

describe('In-Place ABN specifics', () => {
  test.each(['the gradient does not keep x', 'inPlace releases x once y exists; using it again is a clear error',
    'a gamma of zero keeps the backward pass finite'].map((n) => [n]))('%s', (name) => expectCase(abnSparse.abnChecks[name]));
});

describe('no leaked tensors or GPU buffers', () => {
  test.each(LEAK_CHECKS.map((n) => [n]))('%s', (name) => expectCase(leaks[name]));
});

describe('bad input: the same clear errors as on cpu', () => {
  test.each(ERROR_CASES.map((n) => [n]))('%s', (name) => expectCase(errors[name]));
});
