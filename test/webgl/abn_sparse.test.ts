/**
 * inplaceABN and sparseBatchNorm on the webgl backend in headless Chromium: values and
 * gradients against the PyTorch batch-norm fixtures (invertible activations; the values matrix
 * of a COO tensor), the release of `x` by `inPlace: true` with its clear error, leaks; and the
 * synchronized variants (`group`) across 2 and 3 Web Worker ranks on webgl, uneven and with an
 * empty rank, against the fixtures of the concatenated batch (test/support/sync_checks.ts, as on
 * cpu and tensorflow). Fails, never skips.
 */
import {buildPage, openPage, type BrowserPage} from '../../bench/browser/driver.js';
import {loadFixtures} from '../support/load.js';
import {syncCases as casesOf} from '../support/sync_checks.js';
import type {CheckResult} from './guard.js';
import {caseName, openSyncPage, runWorld, type SyncCase, type WorldResults} from './sync_ranks.js';
import {expectPass} from './expect_pass.js';

const all = loadFixtures('batch_norm').cases;
const invertible = all.filter((c) => c.opts.activation !== 'relu');
// The values matrix is [nnz, C]: the rank-2 channels-last cases.
const sparse = all.filter((c) => c.inputs.x!.shape.length === 2 && c.opts.dataFormat !== 'NCHW');
// The synchronized variants over 2 and 3 ranks (3: an empty rank), as the cpu suite
// test/collective/sync_variants.test.ts; sparse: every training case as a values matrix.
const WORLDS = [2, 3];
const syncCases: SyncCase[] = (['inplaceABN', 'sparseBatchNorm'] as const).flatMap((op) =>
  casesOf(op).map((fixture) => ({op, fixture})));
const ABN_CHECKS = ['the gradient does not keep x', 'inPlace releases x once y exists; using it again is a clear error',
  'a gamma of zero keeps the backward pass finite'];

let page: BrowserPage | undefined;
let sync: BrowserPage | undefined;
let env: {backend: string; webglVersion: number; float32Enabled: boolean};
let abn: Record<string, CheckResult> = {};
let sparseResults: Record<string, CheckResult> = {};
let checks: Record<string, CheckResult> = {};
const worlds = new Map<number, WorldResults>();

beforeAll(async () => {
  page = await openPage(await buildPage('test/webgl/abn_sparse_page.ts', '.cache/webgl-test/abn_sparse'));
  const p = page.page;
  env = await p.evaluate(() => window.abnSparseTest.setup());
  abn = await p.evaluate((cs) => window.abnSparseTest.abnFixtures(cs), invertible);
  sparseResults = await p.evaluate((cs) => window.abnSparseTest.sparseFixtures(cs), sparse);
  checks = await p.evaluate(() => window.abnSparseTest.abnChecks());
  await page.close();
  page = undefined;
  sync = await openSyncPage('.cache/webgl-test/abn_sparse_sync');
  for (const world of WORLDS) worlds.set(world, await runWorld(sync.page, world, syncCases));
}, 900_000);

afterAll(async () => {
  await page?.close();
  await sync?.close();
});

test('the page runs webgl 2 with float32 textures', () => {
  expect(env).toEqual({backend: 'webgl', webglVersion: 2, float32Enabled: true});
});

describe('inplaceABN on webgl: batch_norm fixtures with invertible activations, values and gradients', () => {
  test.each(invertible.map((c) => [c.name] as const))('%s', (n) => expectPass(abn[n]));
});

describe('inplaceABN on webgl', () => {
  test.each(ABN_CHECKS.map((n) => [n] as const))('%s', (n) => expectPass(checks[n]));
});

describe('sparseBatchNorm on webgl: batch norm over the values matrix, values and gradients', () => {
  test.each(sparse.map((c) => [c.name] as const))('%s', (n) => expectPass(sparseResults[n]));
});

describe.each(WORLDS)('synchronized (group) over %i Web Worker ranks on webgl', (world) => {
  test('every rank runs webgl in its worker', () => {
    expect(worlds.get(world)!.env).toEqual([]);
  });
  test.each(syncCases.map((c) => [caseName(c)] as const))('%s', (name) => {
    expect(worlds.get(world)!.cases.get(name)).toEqual([]);
  });
});
