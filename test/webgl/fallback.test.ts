/**
 * The fallback when the WebGL context cannot render to float32 textures: a fresh page with
 * WEBGL_RENDER_FLOAT32_ENABLED forced off before the backend starts. The kernels must warn once
 * and compute correct results (at half precision) through compositions of tfjs kernels, without
 * leaks.
 */
import {buildPage, openPage, type BrowserPage} from '../../bench/browser/driver.js';
import {FALLBACK_CASES} from './cases.js';
import type {CaseResult, EnvInfo} from './page.js';

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
  const ours = warnings.filter((w) => w.startsWith('tfjs-norms:'));
  expect(ours).toHaveLength(1);
  expect(ours[0]).toContain('float32');
});

describe('fallback results against the cpu backend', () => {
  test.each(FALLBACK_CASES.map((c) => [c.name] as const))('%s', (c) => {
    const r = results.get(c);
    expect(r).toBeDefined();
    expect(r!.error ?? null).toBeNull();
    expect(r!.bad).toEqual([]);
    expect(r!.leakedTensors).toBe(0);
    expect(r!.leakedBytes).toBe(0);
  });
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
