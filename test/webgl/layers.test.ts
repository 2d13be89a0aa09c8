/**
 * The layers on the webgl backend in headless Chromium: model.fit end to end with each layer
 * (loss goes down, no leaked tensors), moving statistics against PyTorch and the Keras formula
 * for each momentum convention (through layer.apply and model.fit), and save/load round trips
 * (tf.io.withSaveHandler -> tf.io.fromMemory) with identical predictions. Fails, never skips.
 */
import {buildPage, openPage, type BrowserPage} from '../../bench/browser/driver.js';
import * as norms from '../../src/index.js';
import {layerFactories, movingStatsLayers, type FitResult, type MovingStatsCase} from '../support/layer_checks.js';
import {loadFixtures} from '../support/load.js';
import type {CheckResult} from './guard.js';
import {expectPass} from './expect_pass.js';

const moving = (loadFixtures('moving_stats') as unknown as {cases: MovingStatsCase[]}).cases;
// The page builds the same layers from its own bundle; here only their names are needed.
const FIT_LAYERS = layerFactories(norms).map(([name]) => name);
const MOVING = movingStatsLayers(norms).flatMap(([layer]) => moving.flatMap((c) =>
  ['layer.apply', 'model.fit'].map((how) => [`${layer}: ${c.name}: ${how}`, c.oracle] as const)));
const SAVED = ['batchNormalization', 'syncBatchNormalization', 'layerNormalization', 'groupNormalization',
  'instanceNormalization', 'inPlaceABN'];

let bp: BrowserPage | undefined;
let env: {backend: string; webglVersion: number; float32Enabled: boolean};
let fits: FitResult[] = [];
let stats: Record<string, CheckResult> = {};
let saved: Record<string, CheckResult> = {};

beforeAll(async () => {
  bp = await openPage(await buildPage('test/webgl/layers_page.ts', '.cache/webgl-test/layers'));
  const page = bp.page;
  env = await page.evaluate(() => window.layersTest.setup());
  fits = await page.evaluate(() => window.layersTest.fit(8));
  stats = await page.evaluate((cs) => window.layersTest.moving(cs), moving);
  saved = await page.evaluate(() => window.layersTest.saveLoad());
}, 900_000);

afterAll(async () => {
  await bp?.close();
});

test('the page runs webgl 2 with float32 textures', () => {
  expect(env).toEqual({backend: 'webgl', webglVersion: 2, float32Enabled: true});
});

describe('model.fit on webgl: loss goes down, nothing leaks', () => {
  test.each(FIT_LAYERS.map((n) => [n] as const))('%s', (name) => {
    const r = fits.find((x) => x.name === name);
    expect(r).toBeDefined();
    expect(r!.losses.every(Number.isFinite)).toBe(true);
    expect(r!.losses[r!.losses.length - 1]).toBeLessThan(r!.losses[0] * 0.8);
    expect(r!.leaked).toBe(0);
  });
});

describe('moving statistics on webgl against PyTorch and the Keras formula', () => {
  test.each(MOVING.map(([n, oracle]) => [`${n} (${oracle})`, n] as const))('%s', (_label, name) => expectPass(stats[name]));
});

describe('save/load round trips on webgl: identical predictions', () => {
  // No leak count here (nor on cpu): tfjs-layers' LayerVariable.write leaks the constrained
  // copy of every weight with a constraint that a load writes (the batchNormalization case has
  // one), in tfjs-layers' own BatchNormalization too.
  test.each(SAVED.map((n) => [n] as const))('%s', (name) => {
    expect(saved[name]).toBeDefined();
    expect(saved[name].error ?? null).toBeNull();
    expect(saved[name].bad).toEqual([]);
  });
});
