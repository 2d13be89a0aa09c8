/**
 * The jest side of the Web Worker rank suites: opens the cross-origin-isolated sync page
 * (sync_page.ts + sync_worker.ts), runs PyTorch fixture cases split along the batch axis over 2,
 * 3 and 4 webgl ranks (uneven batches, an empty rank from three up: test/collective/splits.cjs),
 * and checks each rank's slice against the fixture of the concatenated batch.
 */
import type {Page} from 'playwright-core';
import {buildPage, openPage, type BrowserPage} from '../../bench/browser/driver.js';
import {compare, sliceBatch, type FixtureCase} from '../support/fixtures.js';
import type {RankEnv, RankReply, RankTask, SyncOp} from './sync_protocol.js';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const {splits} = require('../collective/splits.cjs') as {splits: (N: number, world: number) => number[]};

export const WORLDS = [2, 3, 4] as const;

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

/** Why a world's ranks are unfit (not all on webgl with float32 textures in a Web Worker), if they are. */
export function envProblems(envs: RankEnv[]): string[] {
  return envs.flatMap((e) => {
    const bad: string[] = [];
    if (e.error) bad.push(`rank ${e.rank}: ${e.error}`);
    if (e.backend !== 'webgl') bad.push(`rank ${e.rank}: backend '${e.backend}', not webgl`);
    if (e.webglVersion !== 2 || !e.float32Enabled) bad.push(`rank ${e.rank}: WebGL ${e.webglVersion}, float32 ${e.float32Enabled}`);
    if (!e.offscreenCanvas || !e.crossOriginIsolated) bad.push(`rank ${e.rank}: OffscreenCanvas ${e.offscreenCanvas}, isolated ${e.crossOriginIsolated}`);
    return bad;
  });
}

export interface SyncCase {
  /** Unique test name. */
  name: string;
  op: SyncOp;
  fixture: FixtureCase;
  opts: Record<string, unknown>;
  /** Compare the reported global element count per channel. */
  checkCount: boolean;
}

/** The options of a fixture case to pass on (the non-null ones of `keys`). */
export function fixtureOpts(c: FixtureCase, keys = ['epsilon', 'dataFormat', 'activation', 'alpha']): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of keys) if (c.opts[k] != null) o[k] = c.opts[k];
  return o;
}

function tasks(s: SyncCase, sizes: number[], starts: number[]): RankTask[] {
  const c = s.fixture;
  return sizes.map((size, r) => ({
    op: s.op, opts: s.opts, gamma: c.inputs.gamma, beta: c.inputs.beta,
    x: sliceBatch(c.inputs.x!, starts[r], size), dy: sliceBatch(c.inputs.dy!, starts[r], size),
    ...(s.op === 'sparseBatchNorm' ? {sparseShape: [2, 5, 5], first: starts[r]} : {}),
  }));
}

/** Mismatches of every rank's reply against the fixture of the concatenated batch. */
function check(s: SyncCase, sizes: number[], starts: number[], replies: RankReply[]): string[] {
  const c = s.fixture;
  const C = c.expected.mean!.data.length;
  const bad: string[] = [];
  const dgamma = new Float64Array(C);
  const dbeta = new Float64Array(C);
  replies.forEach((rep, r) => {
    const tag = (t: string) => `rank ${r} ${t}`;
    if (!rep.ok) { bad.push(tag(`failed: ${rep.error}`)); return; }
    if (rep.backend !== 'webgl') bad.push(tag(`ran on '${rep.backend}', not webgl`));
    bad.push(...compare(tag('y'), rep.y!, sliceBatch(c.expected.y!, starts[r], sizes[r])));
    bad.push(...compare(tag('dx'), rep.dx!, sliceBatch(c.expected.dx!, starts[r], sizes[r])));
    bad.push(...compare(tag('mean'), rep.mean!, c.expected.mean!));
    bad.push(...compare(tag('variance'), rep.variance!, c.expected.variance!));
    if (s.checkCount && rep.count !== c.inputs.x!.data.length / C) bad.push(tag(`count ${rep.count}`));
    if (s.op === 'sparseBatchNorm' && rep.passThrough !== true) bad.push(tag('indices or shape did not pass through'));
    if (rep.leakedTensors !== 0 || rep.leakedBytes !== 0) {
      bad.push(tag(`leaked ${rep.leakedTensors} tensors, ${rep.leakedBytes} GPU bytes`));
    }
    rep.dgamma?.forEach((v, i) => { dgamma[i] += v; });
    rep.dbeta?.forEach((v, i) => { dbeta[i] += v; });
  });
  // Each rank's dgamma/dbeta is its share: their sum is the concatenated batch's gradient.
  if (c.expected.dgamma) bad.push(...compare('Σ dgamma', dgamma, c.expected.dgamma));
  if (c.expected.dbeta) bad.push(...compare('Σ dbeta', dbeta, c.expected.dbeta));
  return bad;
}

export interface WorldResults {
  /** Problems of the ranks' environments (empty when every rank runs webgl in a worker). */
  env: string[];
  envs: RankEnv[];
  /** Mismatches per case name. */
  cases: Map<string, string[]>;
}

/**
 * Starts `world` webgl ranks and runs every case on them. If the ranks are unfit, every case
 * records that (nothing falls back to another backend).
 */
export async function runWorld(page: Page, world: number, cases: SyncCase[], timeoutMs = 20000): Promise<WorldResults> {
  const start = () => page.evaluate(([w, t]) => window.syncTest.start(w, t), [world, timeoutMs] as const);
  const envs = await start();
  const env = envProblems(envs);
  const results = new Map<string, string[]>();
  try {
    for (const s of cases) {
      if (env.length > 0) {
        results.set(s.name, [`ranks unfit: ${env[0]}`]);
        continue;
      }
      const N = s.fixture.inputs.x!.shape[0];
      const sizes = splits(N, world);
      const starts = sizes.map((_, r) => sizes.slice(0, r).reduce((a, b) => a + b, 0));
      const replies = await page.evaluate((ts) => window.syncTest.run(ts), tasks(s, sizes, starts));
      results.set(s.name, check(s, sizes, starts, replies));
      // A failed task destroys the group: the next case gets fresh ranks.
      if (replies.some((r) => !r.ok)) {
        const again = envProblems(await start());
        if (again.length > 0) env.push(...again);
      }
    }
  } finally {
    await page.evaluate(() => window.syncTest.stop());
  }
  return {env, envs, cases: results};
}
