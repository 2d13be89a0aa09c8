/**
 * SyncBatchNorm on the webgl backend across 2, 3 and 4 Web Worker ranks of a thread group
 * (SharedArrayBuffer + Atomics in a cross-origin-isolated page), with uneven batches and an
 * empty rank: each rank's y and dx, the global statistics and count, and the summed
 * dgamma/dbeta equal the PyTorch fixtures of batch norm over the concatenated batch, with the
 * cases and checks the cpu and tensorflow thread-rank suites use (test/support/sync_checks.ts).
 * Every rank must run webgl (OffscreenCanvas in its worker); the suite fails, never skips.
 */
import type {BrowserPage} from '../../bench/browser/driver.js';
import {syncCases} from '../support/sync_checks.js';
import {caseName, openSyncPage, runWorld, type SyncCase, type WorldResults} from './sync_ranks.js';

const WORLDS = [2, 3, 4];
const cases: SyncCase[] = syncCases('syncBatchNorm').map((fixture) => ({op: 'syncBatchNorm', fixture}));

let bp: BrowserPage | undefined;
let isolated = false;
const worlds = new Map<number, WorldResults>();

beforeAll(async () => {
  bp = await openSyncPage('.cache/webgl-test/sync');
  isolated = await bp.page.evaluate(() => window.syncTest.crossOriginIsolated());
  for (const world of WORLDS) worlds.set(world, await runWorld(bp.page, world, cases));
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
  test.each(cases.map((c) => [caseName(c)] as const))('%s', (name) => {
    expect(worlds.get(world)!.cases.get(name)).toEqual([]);
  });
});
