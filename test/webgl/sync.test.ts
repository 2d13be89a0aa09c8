/**
 * SyncBatchNorm on the webgl backend across 2, 3 and 4 Web Worker ranks of a thread group
 * (SharedArrayBuffer + Atomics in a cross-origin-isolated page), with uneven batches and an
 * empty rank: each rank's y and dx, the global statistics and count, and the summed
 * dgamma/dbeta equal the PyTorch fixtures of batch norm over the concatenated batch. Every rank
 * must run webgl (OffscreenCanvas in its worker); the suite fails, never skips.
 */
import type {BrowserPage} from '../../bench/browser/driver.js';
import {loadFixtures} from '../support/load.js';
import {fixtureOpts, openSyncPage, runWorld, WORLDS, type SyncCase, type WorldResults} from './sync_ranks.js';

const cases: SyncCase[] = loadFixtures('batch_norm').cases
  .filter((c) => c.opts.training && c.inputs.x!.shape[0] >= 2)
  .map((c) => ({name: c.name, op: 'syncBatchNorm', fixture: c, opts: fixtureOpts(c), checkCount: true}));

let bp: BrowserPage | undefined;
let isolated = false;
const worlds = new Map<number, WorldResults>();

beforeAll(async () => {
  const t0 = Date.now(); bp = await openSyncPage('.cache/webgl-test/sync'); console.log('TIMING open', Date.now() - t0);
  isolated = await bp.page.evaluate(() => window.syncTest.crossOriginIsolated());
  for (const world of WORLDS) { const t = Date.now(); worlds.set(world, await runWorld(bp.page, world, cases)); console.log("TIMING", world, Date.now() - t); }
}, 900_000);

afterAll(async () => {
  await bp?.close();
});

test('the page is cross-origin isolated (SharedArrayBuffer for the thread group)', () => {
  expect(isolated).toBe(true);
});

describe.each(WORLDS)('%i Web Worker ranks on webgl', (world) => {
  test('every rank runs webgl 2 with float32 textures on an OffscreenCanvas in its worker', () => {
    const w = worlds.get(world)!;
    expect(w.envs.map((e) => e.backend)).toEqual(Array(world).fill('webgl'));
    expect(w.env).toEqual([]);
  });
  test.each(cases.map((c) => [c.name] as const))('%s', (name) => {
    expect(worlds.get(world)!.cases.get(name)).toEqual([]);
  });
});
