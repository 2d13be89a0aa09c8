/**
 * The activation vector table (spec: src/activation.ts, table: test/support/activation_vectors.ts)
 * through the webgl kernels' GLSL in headless Chromium. Fails, never skips, without Chromium/webgl.
 */
import {buildPage, openPage, type BrowserPage} from '../../bench/browser/driver.js';
import {ACTIVATION_VECTORS, mismatches, type VectorResult} from '../support/activation_vectors.js';
import type {EnvInfo} from './page.js';

let bp: BrowserPage | undefined;
let env: EnvInfo;
let results: Record<string, {results: VectorResult[]; error?: string; backend: string}>;

beforeAll(async () => {
  const html = await buildPage('test/webgl/page.ts', '.cache/webgl-test/activations');
  bp = await openPage(html);
  env = await bp.page.evaluate(() => window.normsTest.setup());
  if (env.backend !== 'webgl') throw new Error(`webgl backend did not start (got '${env.backend}')`);
  results = await bp.page.evaluate(() => window.normsTest.runActivationVectors());
}, 600_000);

afterAll(async () => {
  await bp?.close();
});

test.each(ACTIVATION_VECTORS.map((r) => [r.activation, r.alpha, r] as const))('%s (alpha %s)', (a, alpha, row) => {
  const r = results[`${a} (alpha ${alpha})`];
  expect(r.error ?? null).toBeNull();
  expect(r.backend).toBe('webgl');
  expect(r.results.length).toBe(row.y.length > 0 ? 4 : 2);
  expect(r.results.flatMap(mismatches)).toEqual([]);
});
