/**
 * Runs code in Debian's headless Chromium (WebGL 2 through SwiftShader) for the webgl tests and
 * benchmarks: bundles an entry module with esbuild into a page under .cache/, opens it from
 * file:// with playwright-core, and evaluates functions the page put on `window`.
 *
 * Pages that need SharedArrayBuffer (Web Worker ranks of a thread group) must be
 * cross-origin isolated, which file:// cannot be: `openPage(html, onLog, {crossOriginIsolated:
 * true})` serves the page's folder from a local http server on 127.0.0.1 with the COOP/COEP
 * headers instead. `buildPage(entry, dir, {workers})` bundles Web Worker scripts next to it.
 *
 * Never downloads a browser: it uses /usr/bin/chromium (scripts/setup-debian.sh installs it).
 */
import {existsSync, mkdirSync, readFile, writeFileSync} from 'node:fs';
import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import {dirname, extname, join, resolve, sep} from 'node:path';
import * as esbuild from 'esbuild';
import {chromium, type Browser, type Page} from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** The flags verified in this environment (see /work/shared/DESIGN.md). */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--enable-unsafe-swiftshader',
];

export interface BuildOptions {
  /** Web Worker scripts bundled into `dir` too: output file name (e.g. 'worker.js') -> entry. */
  workers?: Record<string, string>;
}

/**
 * Pages import src/index.ts (or src/collective/index.ts); in a browser they get the package's
 * browser build (src/browser.ts, src/collective/browser.ts),
 * as bundlers do through the `browser` export condition. Nothing is external: a Node built-in
 * reachable from a page fails its build.
 */
const browserBuild: esbuild.Plugin = {
  name: 'tfjs-norms-browser-build',
  setup(build) {
    build.onResolve({filter: /(^|\/)src\/(collective\/)?index\.js$/},
      (args) => ({path: resolve(args.resolveDir, args.path.replace(/index\.js$/, 'browser.ts'))}));
  },
};

async function bundle(entry: string, outfile: string): Promise<void> {
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    target: 'es2020',
    platform: 'browser',
    outfile,
    plugins: [browserBuild],
    logLevel: 'warning',
    sourcemap: false,
  });
}

/** Bundles `entry` (TypeScript, imports resolved from node_modules) into `dir`/page.js + index.html. */
export async function buildPage(entry: string, dir: string, opts: BuildOptions = {}): Promise<string> {
  mkdirSync(dir, {recursive: true});
  await Promise.all([bundle(entry, join(dir, 'page.js')),
    ...Object.entries(opts.workers ?? {}).map(([name, src]) => bundle(src, join(dir, name)))]);
  const html = join(dir, 'index.html');
  writeFileSync(html, '<!doctype html><html><head><meta charset="utf-8"></head>' +
    '<body><script src="page.js"></script></body></html>\n');
  return resolve(html);
}

const MIME: Record<string, string> = {'.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json'};

/**
 * Serves the files of `root` on 127.0.0.1 (a free port) with the headers that make a page
 * cross-origin isolated, so that it may use SharedArrayBuffer and Atomics.
 */
export async function serveIsolated(root: string): Promise<{url: string; server: Server}> {
  const base = resolve(root);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    // No icon: answered empty so that the console shows no 404.
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const file = resolve(base, `.${path === '/' ? '/index.html' : path}`);
    if (req.method !== 'GET' || !file.startsWith(base + sep)) {
      res.writeHead(404).end();
      return;
    }
    readFile(file, (err, body) => {
      if (err) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, {
        'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
        'Cross-Origin-Opener-Policy': 'same-origin',
        'Cross-Origin-Embedder-Policy': 'require-corp',
        'Cross-Origin-Resource-Policy': 'same-origin',
        'Cache-Control': 'no-store',
      });
      res.end(body);
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  return {url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server};
}

export interface BrowserPage {
  browser: Browser;
  page: Page;
  /** Console messages and page errors, for diagnostics. */
  log: string[];
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Serve the page's folder over http with COOP/COEP (SharedArrayBuffer) instead of file://. */
  crossOriginIsolated?: boolean;
}

/** Launches Chromium and opens `html`; throws (never skips) if Chromium is missing. */
export async function openPage(html: string, onLog?: (line: string) => void, opts: OpenOptions = {}): Promise<BrowserPage> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: run scripts/setup-debian.sh (as root) to install Debian's chromium`);
  }
  const browser = await chromium.launch({executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true});
  const page = await browser.newPage();
  page.setDefaultTimeout(0);
  const log: string[] = [];
  page.on('console', (m) => {
    const t = m.text();
    if (t.includes('GPU stall due to ReadPixels')) return;
    log.push(`${m.type()}: ${t}`);
    onLog?.(t);
  });
  page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
  if (!opts.crossOriginIsolated) {
    await page.goto(`file://${html}`);
    return {browser, page, log, close: () => browser.close()};
  }
  const {url, server} = await serveIsolated(dirname(html));
  const close = async () => {
    await browser.close();
    await new Promise((done) => server.close(done));
  };
  try {
    await page.goto(`${url}index.html`);
  } catch (e) {
    await close();
    throw e;
  }
  return {browser, page, log, close};
}
