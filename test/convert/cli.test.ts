/**
 * `tfjs-norms convert` on a saved model folder, both directions, loading the results back; and
 * hostile or unlucky folders: symlinks and paths leading out, FIFOs, an output folder that is the
 * input, interrupted writes.
 */
import * as tf from '@tensorflow/tfjs';
import {execFileSync} from 'node:child_process';
import {
  cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {layers} from '../../src/index.js';
import {folderLoadHandler, folderSaveHandler, safeRelative, writeFilesAtomically} from '../../src/cli/model_files.js';

const root = join(__dirname, '..', '..');
const cli = (...args: string[]) => execFileSync(process.execPath, [join(root, 'bin', 'tfjs-norms.cjs'), ...args], {encoding: 'utf8', timeout: 30000});

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

describe('hostile model folders', () => {
  let base: string;
  let work: string;
  /** A fresh copy of a saved plain model (model.json + weights.bin) in its own folder. */
  const copyModel = (name: string): string => {
    const d = join(work, name);
    cpSync(join(base, 'plain'), d, {recursive: true});
    return d;
  };
  const setPaths = (dir: string, paths: string[]) => {
    const j = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    j.weightsManifest[0].paths = paths;
    writeFileSync(join(dir, 'model.json'), JSON.stringify(j));
  };
  const fails = (...args: string[]): string => {
    try {
      cli(...args);
    } catch (e) {
      return String((e as {stderr?: string}).stderr);
    }
    throw new Error(`tfjs-norms ${args.join(' ')} succeeded`);
  };

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'tfjs-norms-hostile-'));
    const model = tf.sequential({layers: [tf.layers.dense({inputShape: [3], units: 4}), tf.layers.batchNormalization({})]});
    await model.save(folderSaveHandler(join(base, 'plain')));
    writeFileSync(join(base, 'secret'), 'root:x:0:0:secret\n');
  });
  afterAll(() => rmSync(base, {recursive: true, force: true}));
  beforeEach(() => {
    work = mkdtempSync(join(base, 'case-'));
  });

  test('a weights file that is a symlink out of the folder is refused; nothing is written', async () => {
    const m = copyModel('m');
    rmSync(join(m, 'weights.bin'));
    symlinkSync(join(base, 'secret'), join(m, 'weights.bin'));
    expect(fails('convert', join(m, 'model.json'), join(work, 'out'), '--to', 'sync'))
        .toMatch(/weight file 'weights.bin' resolves to .*secret, outside the model's folder .*: refused/);
    expect(existsSync(join(work, 'out', 'weights.bin'))).toBe(false);
    expect(existsSync(join(work, 'out', 'model.json'))).toBe(false);
    await expect(folderLoadHandler(m).load!()).rejects.toThrow(/outside the model's folder/);
  });

  test('a folder on the weights path that is a symlink out is refused', () => {
    const m = copyModel('m');
    const outside = join(work, 'elsewhere');
    mkdirSync(outside);
    renameSync(join(m, 'weights.bin'), join(outside, 'weights.bin'));
    symlinkSync(outside, join(m, 'sub'));
    setPaths(m, ['sub/weights.bin']);
    expect(fails('convert', join(m, 'model.json'), join(work, 'out'), '--to', 'sync'))
        .toMatch(/'sub\/weights.bin' resolves to .*elsewhere\/weights.bin, outside the model's folder/);
  });

  test('absolute and .. paths in the manifest are refused', () => {
    const m = copyModel('m');
    setPaths(m, [join(base, 'secret')]);
    expect(fails('convert', join(m, 'model.json'), join(work, 'out'), '--to', 'sync')).toMatch(/leaves the model's folder/);
    setPaths(m, ['../secret']);
    expect(fails('convert', join(m, 'model.json'), join(work, 'out'), '--to', 'sync')).toMatch(/'..\/secret' leaves the model's folder/);
    expect(existsSync(join(work, 'out', 'model.json'))).toBe(false);
  });

  test('a FIFO as a weights file is refused without blocking', () => {
    const m = copyModel('m');
    rmSync(join(m, 'weights.bin'));
    execFileSync('mkfifo', [join(m, 'weights.bin')]);
    expect(fails('convert', join(m, 'model.json'), join(work, 'out'), '--to', 'sync')).toMatch(/is not a regular file: refused/);
  });

  test('a symlink that stays inside the folder is followed', async () => {
    const m = copyModel('m');
    mkdirSync(join(m, 'shards'));
    renameSync(join(m, 'weights.bin'), join(m, 'shards', 'w.bin'));
    symlinkSync(join('shards', 'w.bin'), join(m, 'weights.bin'));
    cli('convert', join(m, 'model.json'), join(work, 'out'), '--to', 'sync');
    expect(lstatSync(join(work, 'out', 'weights.bin')).isFile()).toBe(true);
    const loaded = await tf.loadLayersModel(folderLoadHandler(m));
    expect(loaded.layers[1].getClassName()).toBe('BatchNormalization');
  });

  test('folderLoadHandler refuses a model.json that is a symlink out of the folder', async () => {
    const m = copyModel('m');
    rmSync(join(m, 'model.json'));
    symlinkSync(join(base, 'secret'), join(m, 'model.json'));
    await expect(folderLoadHandler(m).load!()).rejects.toThrow(/'model.json' resolves to .*secret, outside the model's folder/);
  });
});

describe('the converter never destroys its input', () => {
  let base: string;
  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'tfjs-norms-inplace-'));
    const model = tf.sequential({layers: [tf.layers.dense({inputShape: [3], units: 4}), tf.layers.batchNormalization({})]});
    await model.save(folderSaveHandler(join(base, 'plain')));
  });
  afterAll(() => rmSync(base, {recursive: true, force: true}));
  const fresh = (): string => {
    const d = mkdtempSync(join(base, 'case-'));
    cpSync(join(base, 'plain'), join(d, 'm'), {recursive: true});
    return d;
  };
  const stderrOf = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      return String((e as {stderr?: string}).stderr);
    }
    throw new Error('succeeded');
  };

  test('an output folder that is a symlink to the input folder is refused; --force converts in place', async () => {
    const d = fresh();
    const m = join(d, 'm');
    symlinkSync(m, join(d, 'out'));
    const before = readFileSync(join(m, 'model.json'), 'utf8');
    expect(stderrOf(() => cli('convert', join(m, 'model.json'), join(d, 'out'), '--to', 'sync')))
        .toMatch(/the output folder .*out is the model's folder .*pass --force/);
    // The same folder under another spelling.
    expect(stderrOf(() => cli('convert', join(m, 'model.json'), join(d, 'm', '..', 'm'), '--to', 'sync')))
        .toMatch(/is the model's folder/);
    expect(readFileSync(join(m, 'model.json'), 'utf8')).toBe(before);

    cli('convert', join(m, 'model.json'), join(d, 'out'), '--to', 'sync', '--force');
    expect(readFileSync(join(m, 'model.json'), 'utf8')).toContain('SyncBatchNormalization');
    const sync = await tf.loadLayersModel(folderLoadHandler(m));
    expect(sync.layers[1]).toBeInstanceOf(layers.SyncBatchNormalization);
    expect(readdirSync(m).sort()).toEqual(['model.json', 'weights.bin']);
  });

  test('an output model.json that is a symlink to the input is replaced, not written through', () => {
    const d = fresh();
    const m = join(d, 'm');
    mkdirSync(join(d, 'out'));
    symlinkSync(join(m, 'model.json'), join(d, 'out', 'model.json'));
    const before = readFileSync(join(m, 'model.json'), 'utf8');
    cli('convert', join(m, 'model.json'), join(d, 'out'), '--to', 'sync');
    expect(readFileSync(join(m, 'model.json'), 'utf8')).toBe(before);
    expect(lstatSync(join(d, 'out', 'model.json')).isFile()).toBe(true);
    expect(readFileSync(join(d, 'out', 'model.json'), 'utf8')).toContain('SyncBatchNormalization');
  });

  test('an output subfolder that leads out of the output folder is refused', () => {
    const d = fresh();
    const m = join(d, 'm');
    mkdirSync(join(m, 'sub'));
    renameSync(join(m, 'weights.bin'), join(m, 'sub', 'weights.bin'));
    const j = JSON.parse(readFileSync(join(m, 'model.json'), 'utf8'));
    j.weightsManifest[0].paths = ['sub/weights.bin'];
    writeFileSync(join(m, 'model.json'), JSON.stringify(j));
    mkdirSync(join(d, 'out'));
    mkdirSync(join(d, 'victim'));
    symlinkSync(join(d, 'victim'), join(d, 'out', 'sub'));
    expect(stderrOf(() => cli('convert', join(m, 'model.json'), join(d, 'out'), '--to', 'sync')))
        .toMatch(/output 'sub\/weights.bin' would be written to .*victim, outside the output folder/);
    expect(readdirSync(join(d, 'victim'))).toEqual([]);
  });

  test('a run that fails part-way leaves the old output files intact and no temporary files', () => {
    const d = fresh();
    const m = join(d, 'm');
    cli('convert', join(m, 'model.json'), join(d, 'out'), '--to', 'sync');
    const old = readFileSync(join(d, 'out', 'model.json'), 'utf8');
    // Interrupted while writing the second of three files: nothing is replaced.
    const out = join(d, 'out');
    let n = 0;
    expect(() => writeFilesAtomically(out, [
      {path: 'weights.bin', data: 'new weights'}, {path: 'extra.bin', data: 'x'}, {path: 'model.json', data: '{}'},
    ], (tmp, data) => {
      if (++n === 2) throw new Error('disk full (injected)');
      writeFileSync(tmp, data, {flag: 'wx'});
    })).toThrow(/disk full \(injected\)/);
    expect(readFileSync(join(out, 'model.json'), 'utf8')).toBe(old);
    expect(readFileSync(join(out, 'weights.bin'))).toEqual(readFileSync(join(m, 'weights.bin')));
    expect(readdirSync(out).sort()).toEqual(['model.json', 'weights.bin']);

    // Through the command line: the weights cannot be put in place (a folder is in the way),
    // so model.json is not replaced either.
    rmSync(join(out, 'weights.bin'));
    mkdirSync(join(out, 'weights.bin'));
    writeFileSync(join(out, 'weights.bin', 'keep'), '');
    expect(stderrOf(() => cli('convert', join(d, 'out', 'model.json'), join(d, 'back'), '--to', 'plain'))).toMatch(/weights.bin/);
    expect(stderrOf(() => cli('convert', join(m, 'model.json'), out, '--to', 'plain'))).toMatch(/cannot replace .*out\/weights.bin: EISDIR/);
    expect(readFileSync(join(out, 'model.json'), 'utf8')).toBe(old);
    expect(readdirSync(out).sort()).toEqual(['model.json', 'weights.bin']);
  });
});
