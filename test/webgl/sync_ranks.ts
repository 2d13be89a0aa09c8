/**
 * The jest side of the Web Worker rank suites: opens the cross-origin-isolated sync page
 * (sync_page.ts + sync_worker.ts) and runs synchronized ops over webgl ranks with the shared
 * cases, shards and checks of test/support/sync_checks.ts (uneven batches, an empty rank from
 * three ranks up), as the cpu and tensorflow suites do with Node worker threads.
 */
import type {Page} from 'playwright-core';
import {buildPage, openPage, type BrowserPage} from '../../bench/browser/driver.js';
import type {FixtureCase} from '../support/fixtures.js';
import {checkReplies, rankMessages, type SyncOp} from '../support/sync_checks.js';
import type {RankEnv, RankTask} from './sync_protocol.js';

/** Builds and opens the sync page over http with COOP/COEP; fails if it is not isolated. */
export async function openSyncPage(dir: string): Promise<BrowserPage> {
  const html = await buildPage('test/webgl/sync_page.ts', dir, {workers: {'sync_worker.js': 'test/webgl/sync_worker.ts'}});
  const bp = await openPage(html, undefined, {crossOriginIsolated: true});
  if (!(await bp.page.evaluate(() => window.syncTest.crossOriginIsolated()))) {
    await bp.close();
    throw new Error('the sync page is not cross-origin isolated: no SharedArrayBuffer for the thread group');
  }
  return bp;
}

/** Why a world's ranks are unfit (not all on webgl 2 with float32 textures in a Web Worker). */
export function envProblems(envs: RankEnv[]): string[] {
  return envs.flatMap((e) => {
    const bad: string[] = [];
    if (e.error) bad.push(`rank ${e.rank}: ${e.error}`);
    if (e.backend !== 'webgl') bad.push(`rank ${e.rank}: backend '${e.backend}', not webgl`);
    if (e.webglVersion !== 2 || !e.float32Enabled) bad.push(`rank ${e.rank}: WebGL ${e.webglVersion}, float32 ${e.float32Enabled}`);
    if (!e.offscreenCanvas || !e.crossOriginIsolated) {
      bad.push(`rank ${e.rank}: OffscreenCanvas ${e.offscreenCanvas}, isolated ${e.crossOriginIsolated}`);
    }
    return bad;
  });
}

export interface SyncCase {op: SyncOp; fixture: FixtureCase}

/** The test name of a case. */
export const caseName = (s: SyncCase) => `${s.op}: ${s.fixture.name}`;

export interface WorldResults {
  /** Problems of the ranks' environments (empty when every rank runs webgl in a worker). */
  env: string[];
  envs: RankEnv[];
  /** Mismatches per case name. */
  cases: Map<string, string[]>;
}

/**
 * Starts `world` webgl ranks and runs every case on them. If the ranks are unfit, every case
 * records that (nothing falls back to another backend); after a failed case (which destroys
 * the group) the next one gets fresh ranks.
 */
export async function runWorld(page: Page, world: number, cases: SyncCase[], timeoutMs = 20000): Promise<WorldResults> {
  const start = () => page.evaluate(([w, t]) => window.syncTest.start(w, t), [world, timeoutMs] as const);
  const envs = await start();
  const env = envProblems(envs);
  const results = new Map<string, string[]>();
  try {
    for (const s of cases) {
      if (env.length > 0) {
        results.set(caseName(s), [`ranks unfit: ${env[0]}`]);
        continue;
      }
      const plan = rankMessages(s.op, s.fixture, world);
      const replies = await page.evaluate((ts) => window.syncTest.run(ts), plan.msgs as RankTask[]);
      const bad = checkReplies(s.fixture, plan, replies, 'webgl');
      replies.forEach((r, i) => {
        if (r.ok && r.leakedBytes !== 0) bad.push(`rank ${i} leaked ${String(r.leakedBytes)} GPU bytes`);
      });
      results.set(caseName(s), bad);
      if (replies.some((r) => !r.ok)) env.push(...envProblems(await start()));
    }
  } finally {
    await page.evaluate(() => window.syncTest.stop());
  }
  return {env, envs, cases: results};
}
