/**
 * The webgl kernels in headless Chromium (Debian's /usr/bin/chromium, WebGL 2 on SwiftShader):
 * the PyTorch fixtures forward and backward (fused and two-kernel backward), webgl-specific
 * shapes (large C, odd sizes, rank 5, more than 10⁶ elements per slot, textures at and past the
 * size limit) and input textures (uploaded, packed, unpacked, sliced, reshaped) against the cpu
 * backend, every kernel called directly (including the backward from the output), the programs
 * a training step runs (no transpose), and leaks of tensors and GPU memory.
 *
 * Everything runs in the page in beforeAll; each case is its own jest test. The suite fails,
 * never skips, when Chromium is missing or the webgl backend does not start with float32 textures.
 */
import {buildPage, openPage, type BrowserPage} from '../../bench/browser/driver.js';
import {FIXTURE_FILES, loadFixtures} from '../support/load.js';
import {KERNEL_CASES, PASS_CASES, SPECIAL} from './cases.js';
import type {CaseResult, EnvInfo, PassResult} from './page.js';
import {expectPass} from './expect_pass.js';

const fixtures = FIXTURE_FILES.map((f) => [f, loadFixtures(f)] as const);
let bp: BrowserPage | undefined;
let env: EnvInfo;
const fused = new Map<string, CaseResult>();
const split = new Map<string, CaseResult>();
const special = new Map<string, CaseResult>();
const kernels = new Map<string, CaseResult>();
const leaks = new Map<string, CaseResult>();
const passes = new Map<string, PassResult>();

beforeAll(async () => {
  const html = await buildPage('test/webgl/page.ts', '.cache/webgl-test/main');
  bp = await openPage(html);
  const page = bp.page;
  env = await page.evaluate(() => window.normsTest.setup());
  if (env.backend !== 'webgl') throw new Error(`webgl backend did not start (got '${env.backend}')`);
  for (const [, file] of fixtures) {
    const r1 = await page.evaluate((cs) => window.normsTest.runFixtures(cs, false), file.cases);
    Object.entries(r1).forEach(([k, v]) => fused.set(k, v));
    const training = file.cases.filter((c) => c.op !== 'batchNorm' || c.opts.training);
    const r2 = await page.evaluate((cs) => window.normsTest.runFixtures(cs, true), training);
    Object.entries(r2).forEach(([k, v]) => split.set(k, v));
  }
  Object.entries(await page.evaluate((cs) => window.normsTest.runSpecial(cs), SPECIAL)).forEach(([k, v]) => special.set(k, v));
  Object.entries(await page.evaluate((cs) => window.normsTest.runKernels(cs), KERNEL_CASES)).forEach(([k, v]) => kernels.set(k, v));
  Object.entries(await page.evaluate(() => window.normsTest.runLeaks())).forEach(([k, v]) => leaks.set(k, v));
  Object.entries(await page.evaluate((cs) => window.normsTest.runPasses(cs), PASS_CASES)).forEach(([k, v]) => passes.set(k, v));
}, 1_500_000);

afterAll(async () => {
  await bp?.close();
});

test('the webgl backend runs WebGL 2 with float32 render targets and our kernels', () => {
  expect(env.backend).toBe('webgl');
  expect(env.webglVersion).toBe(2);
  expect(env.float32Enabled).toBe(true);
  expect(env.kernelsRegistered).toBe(true);
  expect(env.registered).toEqual(['NormsMoments', 'NormsApply', 'NormsNormalizeTraining', 'NormsBackwardReduce',
    'NormsBackwardApply', 'NormsBackwardTraining', 'NormsRMSNorm', 'NormsRMSNormGrad']);
});

for (const [name, file] of fixtures) {
  describe(`${name} fixtures on webgl (torch ${file.torch})`, () => {
    test.each(file.cases.map((c) => [c.name] as const))('%s', (c) => expectPass(fused.get(c)));
  });
  const training = file.cases.filter((c) => c.op !== 'batchNorm' || c.opts.training);
  describe(`${name} fixtures on webgl, two-kernel backward (reduce, then apply)`, () => {
    test.each(training.map((c) => [c.name] as const))('%s', (c) => expectPass(split.get(c)));
  });
}

describe('webgl-specific shapes and input textures, against the cpu backend', () => {
  test.each(SPECIAL.map((c) => [c.name] as const))('%s', (c) => expectPass(special.get(c)));
});

describe('every kernel called directly (incl. backward from the output y), against the cpu backend', () => {
  test.each(KERNEL_CASES.map((c) => [c.name] as const))('%s', (c) => expectPass(kernels.get(c)));
});

describe('no leaked tensors or GPU memory', () => {
  const names = ['batchNorm training NCHW', 'batchNorm training NHWC', 'batchNorm inference', 'layerNorm',
    'groupNorm', 'instanceNorm'].flatMap((n) => [`${n}: forward`, `${n}: tf.grads`, `${n}: tf.variableGrads`]);
  test.each(names.map((n) => [n] as const))('%s', (n) => expectPass(leaks.get(n)));
});

describe('a training step reads x in place: no transpose, only y and dx written at full size', () => {
  test.each(PASS_CASES.map((c) => [c.name] as const))('%s', (name) => {
    const r = passes.get(name);
    expect(r).toBeDefined();
    expect(r!.error ?? null).toBeNull();
    expect(r!.kernels.filter((k) => /transpose/i.test(k))).toEqual([]);
    expect(r!.programs.filter((p) => /transpose/i.test(p))).toEqual([]);
    expect(r!.kernels).toEqual(expect.arrayContaining(['NormsNormalizeTraining', 'NormsBackwardTraining']));
    expect(r!.fullSize).toEqual(['ApplyProgram', 'BackwardApplyProgram']);
  });
});
