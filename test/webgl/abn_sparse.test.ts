/**
 * inplaceABN and sparseBatchNorm on the webgl backend in headless Chromium: values and
 * gradients against the PyTorch batch-norm fixtures (invertible activations; the values matrix
 * of a COO tensor), the release of `x` by `inPlace: true` with its clear error, leaks; and the
 * synchronized variants (`group`) across 2, 3 and 4 Web Worker ranks on webgl, uneven and with
 * an empty rank, against the fixtures of the concatenated batch. Fails, never skips.
 */
import {buildPage, openPage, type BrowserPage} from '../../bench/browser/driver.js';
import type {FixtureCase} from '../support/fixtures.js';
import {loadFixtures} from '../support/load.js';
import type {CheckResult} from './guard.js';
import {fixtureOpts, openSyncPage, runWorld, WORLDS, type SyncCase, type WorldResults} from './sync_ranks.js';

const all = loadFixtures('batch_norm').cases;
const invertible = all.filter((c) => c.opts.activation !== 'relu');
// The values matrix is [nnz, C]: the rank-2 channels-last cases.
const sparse = all.filter((c) => c.inputs.x!.shape.length === 2 && c.opts.dataFormat !== 'NCHW');
const trainable = (c: FixtureCase) => c.opts.training === true && c.inputs.x!.shape[0] >= 2;
const syncCases: SyncCase[] = [
  ...invertible.filter(trainable).map((c): SyncCase => ({name: `inplaceABN ${c.name}`, op: 'inplaceABN', fixture: c,
    opts: {activation: 'linear', ...fixtureOpts(c)}, checkCount: true})),
  // Rank 2 is [N, C] in both formats: every rank-2 case is a values matrix.
  ...all.filter((c) => trainable(c) && c.inputs.x!.shape.length === 2).map((c): SyncCase => ({
    name: `sparseBatchNorm ${c.name}`, op: 'sparseBatchNorm', fixture: c,
    opts: fixtureOpts(c, ['epsilon', 'activation', 'alpha']), checkCount: false})),
];
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

function expectPass(r: CheckResult | undefined): void {
  expect(r).toBeDefined();
  expect(r!.error ?? null).toBeNull();
  expect(r!.bad).toEqual([]);
  expect(r!.leakedTensors).toBe(0);
  expect(r!.leakedBytes).toBe(0);
}

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
  test.each(syncCases.map((c) => [c.name] as const))('%s', (name) => {
    expect(worlds.get(world)!.cases.get(name)).toEqual([]);
  });
});
