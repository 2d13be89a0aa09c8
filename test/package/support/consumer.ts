/**
 * Fresh consumer projects for the package tests: `npm pack` the repository (dist/ must be built,
 * as `npm test` does) and install the tarball into a temporary project the way npm lays it out
 * (node_modules/tfjs-norms holds exactly the packed files), offline: the tfjs packages and
 * commander are symlinks to the repository's node_modules, which bundlers and tsc resolve to
 * their real paths as they would an installed copy.
 */
import {execFileSync} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';

export const ROOT = join(__dirname, '..', '..', '..');
export const REPO_MODULES = join(ROOT, 'node_modules');

let tarball: string | undefined;
let packDir: string | undefined;

/** Packs the repository once per test file (without the prepack build: dist/ is already built). */
export function packTarball(): string {
  if (tarball) return tarball;
  if (!existsSync(join(ROOT, 'dist', 'esm', 'src', 'index.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  }
  packDir = mkdtempSync(join(tmpdir(), 'tfjs-norms-pack-'));
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir],
    {cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
  const [info] = JSON.parse(out) as Array<{filename: string; size: number; files: Array<{path: string}>}>;
  tarball = join(packDir, info.filename);
  return tarball;
}

/** The packed files and the tarball's size, as `npm pack --dry-run --json` reports them. */
export function packInfo(): {size: number; unpackedSize: number; files: string[]} {
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--dry-run', '--json'],
    {cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
  const [info] = JSON.parse(out) as Array<{size: number; unpackedSize: number; files: Array<{path: string}>}>;
  return {size: info.size, unpackedSize: info.unpackedSize, files: info.files.map((f) => f.path)};
}

export interface Consumer {
  dir: string;
  /** Writes a file (folders created) relative to the project. */
  write(path: string, contents: string): void;
  remove(): void;
}

/**
 * A project in a temporary folder with `package.json` (`type` as given), the packed tfjs-norms
 * in node_modules, and `links` (package names, default every @tensorflow/* package and
 * commander) linked from the repository's node_modules.
 */
export function makeConsumer(name: string, opts: {type?: 'module' | 'commonjs'; links?: string[]} = {}): Consumer {
  const tgz = packTarball();
  const dir = mkdtempSync(join(tmpdir(), `tfjs-norms-${name}-`));
  const write = (path: string, contents: string) => {
    mkdirSync(dirname(join(dir, path)), {recursive: true});
    writeFileSync(join(dir, path), contents);
  };
  write('package.json', JSON.stringify({name: `consumer-${name}`, private: true, type: opts.type ?? 'module'}, null, 2));
  const pkgDir = join(dir, 'node_modules', 'tfjs-norms');
  mkdirSync(pkgDir, {recursive: true});
  execFileSync('tar', ['-xzf', tgz, '-C', pkgDir, '--strip-components=1']);
  const links = opts.links ?? [
    ...readdirSync(join(REPO_MODULES, '@tensorflow')).map((p) => `@tensorflow/${p}`), 'commander'];
  for (const p of links) {
    const target = join(dir, 'node_modules', p);
    mkdirSync(dirname(target), {recursive: true});
    symlinkSync(join(REPO_MODULES, p), target, 'dir');
  }
  return {dir, write, remove: () => rmSync(dir, {recursive: true, force: true})};
}

/** Removes the tarball's folder (call in afterAll). */
export function removeTarball(): void {
  if (packDir) rmSync(packDir, {recursive: true, force: true});
  tarball = undefined;
  packDir = undefined;
}

/** Subpaths of the package's `exports` that must bundle for browsers ('.', './webgl', …: all but Node's). */
export function browserEntryPoints(exportsMap: Record<string, unknown>): string[] {
  return Object.keys(exportsMap).filter((k) => k !== './node' && k !== './package.json');
}

/** The import specifier of an exports subpath ('.' -> 'tfjs-norms', './webgl' -> 'tfjs-norms/webgl'). */
export function specifier(subpath: string): string {
  return subpath === '.' ? 'tfjs-norms' : `tfjs-norms/${subpath.slice(2)}`;
}
