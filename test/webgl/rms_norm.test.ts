/**
 * RMSNorm's webgl kernels in headless Chromium: the PyTorch fixtures, webgl-specific shapes and
 * input textures against the cpu backend, the composite kernels (tfjs webgl kernels only), the
 * programs of a training step, and leaks of tensors and GPU memory.
 */
import {buildPage, openPage, type BrowserPage} from '../../bench/browser/driver.js';
import {loadFixtures} from '../support/load.js';
import {expectPass} from './expect_pass.js';
import type {RmsSpecial} from './rms_page.js';
import type {CheckResult} from './guard.js';

const fixtures = loadFixtures('rms_norm');
const SPECIAL: RmsSpecial[] = [
  {name: 'D=768 packed', shape: [6, 10, 768], input: 'packed'},
  {name: 'D=4096 upload', shape: [5, 4096], input: 'upload'},
  {name: 'odd rows and D, unpacked', shape: [3, 7, 13], input: 'unpacked'},
  {name: 'odd rows and D, packed', shape: [3, 7, 13], input: 'packed'},
  {name: 'two axes, odd', shape: [3, 5, 7], axes: [-2, -1], input: 'packed'},
  {name: 'one row', shape: [1, 9], input: 'upload'},
  {name: 'rank 1', shape: [11], input: 'upload'},
  {name: 'many rows', shape: [4099, 6], input: 'packed'},
  {name: 'small values', shape: [8, 32], input: 'packed', scale: 1e-4},
];

let bp: BrowserPage | undefined;
let env: {backend: string; webglVersion: number; float32Enabled: boolean};
let fused: Record<string, CheckResult>;
let fallback: Record<string, CheckResult>;
let special: Record<string, CheckResult>;
let programs: string[];

beforeAll(async () => {
  const html = await buildPage('test/webgl/rms_page.ts', '.cache/webgl-test/rms');
  bp = await openPage(html);
  const page = bp.page;
  env = await page.evaluate(() => window.rmsTest.startWebgl());
  if (env.backend !== 'webgl') throw new Error(`webgl backend did not start (got '${env.backend}')`);
  fused = await page.evaluate((cs) => window.rmsTest.runFixtures(cs), fixtures.cases);
  special = await page.evaluate((cs) => window.rmsTest.runSpecial(cs), SPECIAL);
  programs = await page.evaluate(() => window.rmsTest.programsOfStep());
  fallback = await page.evaluate((cs) => window.rmsTest.runComposite(cs), fixtures.cases);
}, 600_000);

afterAll(async () => {
  await bp?.close();
});

test('webgl 2 with float32 render targets', () => {
  expect(env).toEqual({backend: 'webgl', webglVersion: 2, float32Enabled: true});
});

describe(`rms_norm fixtures on webgl (torch ${fixtures.torch})`, () => {
  test.each(fixtures.cases.map((c) => [c.name] as const))('%s', (c) => expectPass(fused[c]));
});

describe('rms_norm fixtures on webgl through the composite kernels (tfjs webgl kernels only)', () => {
  test.each(fixtures.cases.map((c) => [c.name] as const))('%s', (c) => expectPass(fallback[c]));
});

describe('webgl shapes and input textures against the cpu backend', () => {
  test.each(SPECIAL.map((c) => [c.name] as const))('%s', (c) => expectPass(special[c]));
});

test('a forward + backward step runs our six programs and nothing else of note', () => {
  const ours = programs.filter((p) => p.startsWith('Rms'));
  expect(ours).toEqual(['RmsStatsProgram', 'RmsApplyProgram', 'RmsGradRowProgram', 'RmsGradDxProgram',
    'RmsGradGammaPartialProgram', 'RmsGradGammaProgram']);
  expect(programs.filter((p) => /Transpose|Reduce|Sum|Mean/i.test(p))).toEqual([]);
});
