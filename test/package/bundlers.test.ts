/**
 * The packed package in a fresh project, bundled for browsers with default settings and no
 * externals by esbuild (`--platform=browser`), webpack and Vite (their command lines), then run
 * in headless Chromium on the webgl backend: one op and one layer, with our webgl kernels.
 * Every browser entry point of `exports` (all but './node') must bundle on its own with no Node
 * built-in and none of the Node-only files in its graph.
 */
import {execFileSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {extname, join, resolve, sep} from 'node:path';
import * as esbuild from 'esbuild';
import {chromium} from 'playwright-core';
import {CHROMIUM, CHROMIUM_ARGS} from '../../bench/browser/driver.js';
import {browserEntryPoints, makeConsumer, REPO_MODULES, removeTarball, ROOT, specifier, type Consumer} from './support/consumer.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
/** Files that must never be in a browser bundle (Node-only parts). */
const NODE_ONLY = /tfjs-norms\/dist\/[^/]+\/src\/(collective\/(tcp_transport|tcp_worker|node_builtin)|cli\/|node)\b/;

// One op (training batch norm) and one layer (a LayerNormalization in a model), on webgl.
const APP = `
import * as tf from '@tensorflow/tfjs';
import * as tfn from 'tfjs-norms';
import 'tfjs-norms/webgl';

async function run() {
  if (!(await tf.setBackend('webgl'))) throw new Error('webgl backend did not start');
  const {y} = tfn.batchNorm(tf.tensor2d([[1, 2], [3, 6]]), {training: true});
  const op = Array.from(await y.data());
  const model = tf.sequential({layers: [tfn.layers.layerNormalization({inputShape: [3]})]});
  const layer = Array.from(await model.predict(tf.tensor2d([[1, 2, 3]])).data());
  let tcp = 'no error';
  try { tfn.collective.initFromEnv(); } catch (e) { tcp = e.message; }
  return {backend: tf.getBackend(), op, layer, tcp,
    ourKernel: tf.getKernel(tfn.kernelNames.NormsNormalizeTraining, 'webgl') !== undefined};
}
run().then((r) => { window.__result = r; }, (e) => { window.__result = {error: String(e && e.stack || e)}; });
`;
const HTML = (script: string, module = false) => '<!doctype html><html><head><meta charset="utf-8"></head><body>' +
  `<script ${module ? 'type="module" ' : ''}src="${script}"></script></body></html>\n`;

let app: Consumer;
const outDirs: Record<string, string> = {};

const run = (args: string[], cwd: string) => execFileSync(process.execPath, args,
  {cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NODE_ENV: 'production', CI: 'true'}});

beforeAll(() => {
  app = makeConsumer('bundlers');
  app.write('src/app.js', APP);
});

afterAll(() => {
  app?.remove();
  removeTarball();
});

describe('every browser entry point bundles with esbuild --platform=browser, no externals', () => {
  test.each(browserEntryPoints(pkg.exports).map((s) => [specifier(s)] as const))('%s', async (spec) => {
    app.write(`entry-${spec.replace(/\W/g, '_')}.js`, `import * as m from '${spec}';\nconsole.log(Object.keys(m).length);\n`);
    const r = await esbuild.build({
      entryPoints: [join(app.dir, `entry-${spec.replace(/\W/g, '_')}.js`)], absWorkingDir: app.dir,
      bundle: true, platform: 'browser', write: false, metafile: true, logLevel: 'silent', outdir: join(app.dir, 'out'),
    });
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    const inputs = Object.keys(r.metafile.inputs);
    // The package under test is the installed tarball, not the repository's sources.
    expect(inputs.some((p) => p.includes(`node_modules${sep}tfjs-norms${sep}dist`) || p.includes('node_modules/tfjs-norms/dist'))).toBe(true);
    expect(inputs.filter((p) => p.startsWith('src/') || p.startsWith('kernels/'))).toEqual([]);
    expect(inputs.filter((p) => NODE_ONLY.test(p))).toEqual([]);
    const externals = Object.values(r.metafile.inputs).flatMap((i) => i.imports.filter((im) => im.external).map((im) => im.path));
    expect(externals).toEqual([]);
  });
});

test('esbuild (command line, --platform=browser) bundles the app', () => {
  run([join(REPO_MODULES, 'esbuild', 'bin', 'esbuild'), 'src/app.js', '--bundle', '--platform=browser',
    '--outfile=dist-esbuild/app.js', '--log-level=warning'], app.dir);
  app.write('dist-esbuild/index.html', HTML('app.js'));
  outDirs.esbuild = join(app.dir, 'dist-esbuild');
});

test('webpack (command line, production mode) bundles the app with no warnings', () => {
  const out = run([join(REPO_MODULES, 'webpack-cli', 'bin', 'cli.js'), '--mode', 'production', '--entry', './src/app.js',
    '--output-path', 'dist-webpack', '--no-stats-colors'], app.dir);
  // Size hints are the only warnings allowed: tfjs itself is larger than webpack's 244 KiB hint.
  const warnings = out.split(/\n(?=WARNING)/).filter((w) => w.startsWith('WARNING') && !/size limit|performance recommendations/.test(w));
  expect(warnings).toEqual([]);
  expect(out).not.toMatch(/ERROR/);
  app.write('dist-webpack/index.html', HTML('main.js'));
  outDirs.webpack = join(app.dir, 'dist-webpack');
}, 240_000);

test('Vite (command line, vite build, no config) bundles the app with no warning about the package', () => {
  app.write('index.html', HTML('/src/app.js', true));
  let out: string;
  try {
    out = execFileSync(process.execPath, [join(REPO_MODULES, 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn', '--outDir', 'dist-vite'],
      {cwd: app.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, CI: 'true'}});
  } catch (e) {
    const err = e as {stdout?: string; stderr?: string};
    throw new Error(`vite build failed:\n${err.stdout}\n${err.stderr}`);
  }
  // The one notice left is Vite's advice to code-split chunks over 500 kB: tfjs itself is about
  // 1.1 MB minified, whatever the app. Nothing else (no "externalized for browser compatibility").
  const notices = out.split(/\n\s*\n/).map((b) => b.trim()).filter(Boolean);
  expect(notices.filter((b) => !b.startsWith('(!) Some chunks are larger than 500 kB after minification'))).toEqual([]);
  expect(out).not.toMatch(/externalized|node:|warning/i);
  expect(existsSync(join(app.dir, 'dist-vite', 'index.html'))).toBe(true);
  outDirs.vite = join(app.dir, 'dist-vite');
}, 240_000);

const MIME: Record<string, string> = {'.html': 'text/html', '.js': 'text/javascript'};

test('each bundle runs one op and one layer on webgl in headless Chromium', async () => {
  expect(Object.keys(outDirs).sort()).toEqual(['esbuild', 'vite', 'webpack']);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run scripts/setup-debian.sh (as root)`);
  const browser = await chromium.launch({executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true});
  try {
    for (const [name, dir] of Object.entries(outDirs)) {
      const page = await browser.newPage();
      const log: string[] = [];
      page.on('pageerror', (e) => log.push(e.message));
      // The bundles are answered from disk by the browser driver (no server, no socket);
      // Vite's module scripts need an http(s) origin, which file:// is not.
      await page.route('http://bundle.test/**', async (route) => {
        const path = decodeURIComponent(new URL(route.request().url()).pathname);
        const file = resolve(dir, `.${path === '/' ? '/index.html' : path}`);
        if (!file.startsWith(resolve(dir) + sep) || !existsSync(file)) return route.fulfill({status: 404, body: ''});
        return route.fulfill({status: 200, contentType: MIME[extname(file)] ?? 'application/octet-stream', body: readFileSync(file)});
      });
      await page.goto('http://bundle.test/index.html');
      const handle = await page.waitForFunction(() => (window as unknown as {__result?: unknown}).__result, undefined, {timeout: 60_000});
      const r = await handle.jsonValue() as {backend: string; op: number[]; layer: number[]; tcp: string; ourKernel: boolean; error?: string};
      await page.close();
      expect({bundler: name, error: r.error, pageErrors: log}).toEqual({bundler: name, error: undefined, pageErrors: []});
      expect(r.backend).toBe('webgl');
      expect(r.ourKernel).toBe(true);
      // batchNorm training of [[1, 2], [3, 6]]: mean [2, 4], variance [1, 4], epsilon 1e-5.
      const s = 1 / Math.sqrt(1 + 1e-5), t = 2 / Math.sqrt(4 + 1e-5);
      [-s, -t, s, t].forEach((v, i) => expect(r.op[i]).toBeCloseTo(v, 4));
      // LayerNormalization of [1, 2, 3]: mean 2, variance 2/3, epsilon 1e-3.
      const u = 1 / Math.sqrt(2 / 3 + 1e-3);
      [-u, 0, u].forEach((v, i) => expect(r.layer[i]).toBeCloseTo(v, 4));
      expect(r.tcp).toMatch(/collective\.initFromEnv needs Node\.js .*'tfjs-norms\/node'/);
    }
  } finally {
    await browser.close();
  }
}, 180_000);
