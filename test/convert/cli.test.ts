/** `tfjs-norms convert` on a saved model folder, both directions, loading the results back. */
import * as tf from '@tensorflow/tfjs';
import {execFileSync} from 'node:child_process';
import {existsSync, mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {layers} from '../../src/index.js';
import {folderLoadHandler, folderSaveHandler, safeRelative} from '../../src/cli/model_files.js';

const root = join(__dirname, '..', '..');
const cli = (...args: string[]) => execFileSync(process.execPath, [join(root, 'bin', 'tfjs-norms.cjs'), ...args], {encoding: 'utf8'});

beforeAll(async () => {
  await tf.setBackend('cpu');
});

test('convert --to sync, then --to plain, with the weight files copied', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tfjs-norms-cli-'));
  const model = tf.sequential({layers: [
    tf.layers.dense({inputShape: [3], units: 4}),
    tf.layers.batchNormalization({}),
    tf.layers.dense({units: 2}),
  ]});
  const x = tf.randomNormal([5, 3], 0, 1, 'float32', 1);
  tf.tidy(() => { model.apply(x, {training: true}); });
  await model.save(folderSaveHandler(join(dir, 'plain')));

  expect(cli('convert', join(dir, 'plain', 'model.json'), join(dir, 'sync'), '--to', 'sync'))
      .toContain('1 weight file(s)');
  expect(existsSync(join(dir, 'sync', 'weights.bin'))).toBe(true);
  const sync = await tf.loadLayersModel(folderLoadHandler(join(dir, 'sync')));
  expect(sync.layers[1]).toBeInstanceOf(layers.SyncBatchNormalization);

  cli('convert', join(dir, 'sync', 'model.json'), join(dir, 'back'), '--to', 'plain');
  const back = await tf.loadLayersModel(folderLoadHandler(join(dir, 'back')));
  expect(back.layers[1].getClassName()).toBe('BatchNormalization');
  for (const m of [sync, back]) {
    expect(Array.from((m.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((model.predict(x) as tf.Tensor).dataSync()));
  }
});

test('bad arguments are refused with a clear message and a non-zero exit', () => {
  expect(() => cli('convert', 'model.json', 'out', '--to', 'fast')).toThrow(/must be 'sync' or 'plain'/);
  expect(() => cli('convert', 'model.json', 'out')).toThrow(/required option '--to <kind>'/);
  expect(() => safeRelative('../../etc/passwd')).toThrow(/leaves the model's folder/);
});
