/**
 * The fallback when the fused programs cannot run, in two fresh pages:
 * - WEBGL_RENDER_FLOAT32_ENABLED forced off before the backend starts (half-float textures): the
 *   kernels must warn once and compute correct results, at half precision, through compositions
 *   of tfjs kernels, without leaks;
 * - a WebGL 1 context (float32 textures, no texelFetch): the same path at float32 precision,
 *   checked against a sample of the PyTorch fixtures with their float32 tolerance.
 */
import {buildPage, openPage, type BrowserPage} from '../../bench/browser/driver.js';
import {FIXTURE_FILES, loadFixtures} from '../support/load.js';
import {FALLBACK_CASES} from './cases.js';
import type {CaseResult, EnvInfo} from './page.js';
import {expectPass} from './expect_pass.js';

function ourWarnings(warnings: string[]): string[] {
  return warnings.filter((w) => w.startsWith('tfjs-norms:'));
}

describe('no float32 render targets (half-float textures)', () => {
  let bp: BrowserPage | undefined;
  let env: EnvInfo;
  let warnings: string[] = [];
  const results = new Map<string, CaseResult>();
  const leaks = new Map<string, CaseResult>();

  beforeAll(async () => {
    const html = await buildPage('test/webgl/page.ts', '.cache/webgl-test/fallback');
    bp = await openPage(html);
    env = await bp.page.evaluate(() => window.normsTest.setup({WEBGL_RENDER_FLOAT32_ENABLED: false}));
    const r = await bp.page.evaluate((cs) => window.normsTest.runFallback(cs), FALLBACK_CASES);
    warnings = r.warnings;
    Object.entries(r.results).forEach(([k, v]) => results.set(k, v));
    Object.entries(await bp.page.evaluate(() => window.normsTest.runLeaks())).forEach(([k, v]) => leaks.set(k, v));
  }, 600_000);

  afterAll(async () => {
    await bp?.close();
  });

  test('float32 rendering is off, webgl is on', () => {
    expect(env.backend).toBe('webgl');
    expect(env.float32Capable).toBe(true);
    expect(env.float32Enabled).toBe(false);
  });

  test('one warning, naming the fallback', () => {
    const ours = ourWarnings(warnings);
    expect(ours).toHaveLength(1);
    expect(ours[0]).toContain('float32');
  });

  describe('fallback results against the cpu backend', () => {
    test.each(FALLBACK_CASES.map((c) => [c.name] as const))('%s', (c) => expectPass(results.get(c)));
  });

  describe('fallback: no leaked tensors or GPU memory', () => {
    test('every op, forward and backward', () => {
      expect(leaks.size).toBe(18);
      for (const [name, r] of leaks) {
        expect({name, error: r.error ?? null, bad: r.bad, t: r.leakedTensors, b: r.leakedBytes})
          .toEqual({name, error: null, bad: [], t: 0, b: 0});
      }
    });
  });
});

describe('WebGL 1 (float32 textures, no WebGL 2): the fallback at float32 precision', () => {
  // Every 6th fixture case of each file: each op, mode and activation appear, in a few seconds.
  const sample = FIXTURE_FILES.map((f) => [f, loadFixtures(f).cases.filter((_, i) => i % 6 === 0)] as const);
  let bp: BrowserPage | undefined;
  let env: EnvInfo;
  let warnings: string[] = [];
  const fixtures = new Map<string, CaseResult>();
  const results = new Map<string, CaseResult>();

  beforeAll(async () => {
    const html = await buildPage('test/webgl/page.ts', '.cache/webgl-test/webgl1');
    bp = await openPage(html);
    env = await bp.page.evaluate(() => window.normsTest.setup({WEBGL_VERSION: 1}));
    const strict = FALLBACK_CASES.map((c) => ({...c, rtol: 1e-4}));
    const r = await bp.page.evaluate((cs) => window.normsTest.runFallback(cs), strict);
    warnings = r.warnings;
    Object.entries(r.results).forEach(([k, v]) => results.set(k, v));
    for (const [, cases] of sample) {
      const f = await bp.page.evaluate((cs) => window.normsTest.runFixtures(cs, false), cases);
      Object.entries(f).forEach(([k, v]) => fixtures.set(k, v));
    }
  }, 600_000);

  afterAll(async () => {
    await bp?.close();
  });

  test('the backend runs WebGL 1 with float32 render targets', () => {
    expect(env.backend).toBe('webgl');
    expect(env.webglVersion).toBe(1);
    expect(env.float32Enabled).toBe(true);
  });

  test('one warning, naming the fallback', () => {
    expect(ourWarnings(warnings)).toHaveLength(1);
  });

  describe('against the cpu backend at float32 tolerance (rtol 1e-4)', () => {
    test.each(FALLBACK_CASES.map((c) => [c.name] as const))('%s', (c) => expectPass(results.get(c)));
  });

  for (const [name, cases] of sample) {
    describe(`${name} fixtures (sample)`, () => {
      test.each(cases.map((c) => [c.name] as const))('%s', (c) => expectPass(fixtures.get(c)));
    });
  }
});
