/**
 * The wasm kernels in headless Chromium (Debian's /usr/bin/chromium): tfjs-backend-wasm in a page
 * opened from file://, its .wasm binaries handed over as blob: URLs (bench/browser/wasm_env.ts).
 * Every PyTorch fixture (RMSNorm's too), forward and backward, with our wasm kernels (fused and two-kernel
 * backward) and with the composite path (TFJS_NORMS_COMPOSITE), without leaked tensors or wasm
 * memory. Fails, never skips, when Chromium is missing or the wasm backend does not start.
 */
import {buildPage, openPage, type BrowserPage} from '../../bench/browser/driver.js';
import {wasmBinaries} from '../../bench/browser/wasm_binaries.js';
import {FIXTURE_FILES, loadFixtures} from '../support/load.js';
import type {CaseResult, Mode, ModeResult} from './page.js';

const cases = [...FIXTURE_FILES, 'rms_norm'].flatMap((f) => loadFixtures(f).cases);
const MODES: Mode[] = ['fused', 'split', 'composite'];
let bp: BrowserPage | undefined;
let env: {backend: string; simd: boolean; kernelsRegistered: boolean; simdLoaded: boolean};
const runs = new Map<Mode, ModeResult>();

beforeAll(async () => {
  const html = await buildPage('test/wasm/page.ts', '.cache/wasm-test/main');
  bp = await openPage(html);
  env = await bp.page.evaluate((b) => window.normsWasm.setup(b), wasmBinaries());
  if (env.backend !== 'wasm') throw new Error(`wasm backend did not start (got '${env.backend}'): ${bp.log.join('\n')}`);
  for (const mode of MODES) {
    const training = mode === 'split' ? cases.filter((c) => c.op !== 'batchNorm' || c.opts.training) : cases;
    runs.set(mode, await bp.page.evaluate(([cs, m]) => window.normsWasm.runFixtures(cs, m), [training, mode] as const));
  }
}, 600_000);

afterAll(async () => {
  await bp?.close();
});

test('the wasm backend runs in the page with our kernels registered', () => {
  expect(env.backend).toBe('wasm');
  expect(env.kernelsRegistered).toBe(true);
});

test('our kernels run their loops on the WebAssembly SIMD build in the page', () => {
  expect(env.simdLoaded).toBe(true);
  const calls = runs.get('fused')!.simdCalls;
  for (const loop of ['normalizeSlots', 'moments', 'apply', 'backwardReduce', 'backwardApply', 'rmsNormForward',
    'rmsNormBackward']) {
    expect({loop, calls: (calls[loop] ?? 0) > 0}).toEqual({loop, calls: true});
  }
  // The composite path runs tfjs kernels only.
  expect(Object.values(runs.get('composite')!.simdCalls).every((n) => n === 0)).toBe(true);
});

function expectCase(r: CaseResult | undefined): void {
  expect(r).toBeDefined();
  expect(r!.error ?? null).toBeNull();
  expect(r!.bad).toEqual([]);
  expect(r!.leakedTensors).toBe(0);
  expect(r!.leakedDataIds).toBe(0);
}

describe.each(MODES)('%s', (mode) => {
  test('the ops run the expected kernels', () => {
    expect(runs.get(mode)!.composite).toBe(mode === 'composite');
  });
  const names = (mode === 'split' ? cases.filter((c) => c.op !== 'batchNorm' || c.opts.training) : cases).map((c) => [c.name]);
  test.each(names)('%s', (name) => expectCase(runs.get(mode)!.results[name]));
});
