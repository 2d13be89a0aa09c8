/**
 * The activation vector table (spec: src/activation.ts, table: test/support/activation_vectors.ts)
 * through the webgpu kernels' WGSL in headless Chromium, in the elementwise programs' scalar form
 * and their four-lane vector form. Fails, never skips, without Chromium or WebGPU.
 */
import {buildPage, openPage, type BrowserPage} from '../../bench/browser/driver.js';
import {ACTIVATION_VECTORS, mismatches} from '../support/activation_vectors.js';
import type {ActivationResult} from './page.js';

let bp: BrowserPage | undefined;
let results: Record<string, ActivationResult>;

beforeAll(async () => {
  const html = await buildPage('test/webgpu/page.ts', '.cache/webgpu-test/activations');
  bp = await openPage(html, undefined, {webgpu: true});
  try {
    const env = await bp.page.evaluate(() => window.normsWebgpu.setup());
    if (env.backend !== 'webgpu') throw new Error(`webgpu backend did not start (got '${env.backend}')`);
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${bp.log.join('\n')}`);
  }
  results = await bp.page.evaluate(() => window.normsWebgpu.runActivationVectors());
}, 600_000);

afterAll(async () => {
  await bp?.close();
});

describe.each(['scalar', 'vector'])('%s form', (form) => {
  test.each(ACTIVATION_VECTORS.map((r) => [r.activation, r.alpha, r] as const))('%s (alpha %s)', (a, alpha, row) => {
    const r = results[`${a} (alpha ${alpha}), ${form}`];
    expect(r.error ?? null).toBeNull();
    expect(r.gpuErrors).toEqual([]);
    expect(r.backend).toBe('webgpu');
    expect(r.results.length).toBe(row.y.length > 0 ? 4 : 2);
    expect(r.results.flatMap(mismatches)).toEqual([]);
  });
});
