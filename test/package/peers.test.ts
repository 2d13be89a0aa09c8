/**
 * package.json's dependencies tell the truth about the built entry points: every package the
 * main entry's module graph imports is a dependency or a required (non-optional) peer, every
 * required peer is imported by it, and the backend entry points import nothing undeclared
 * (their backends are optional peers). In a project without @tensorflow/tfjs-layers the main
 * entry fails to load, as a required peer says it would.
 */
import {execFileSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {builtinModules} from 'node:module';
import {dirname, join, resolve} from 'node:path';
import {makeConsumer, removeTarball, ROOT} from './support/consumer.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const peers = Object.keys(pkg.peerDependencies ?? {});
const optional = new Set(Object.entries(pkg.peerDependenciesMeta ?? {})
  .filter(([, m]) => (m as {optional?: boolean}).optional).map(([p]) => p));
const required = peers.filter((p) => !optional.has(p));
const deps = Object.keys(pkg.dependencies ?? {});

/** Bare package names imported anywhere in the ESM module graph from `entry` (a dist file). */
function importedPackages(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    // Comments (JSDoc examples import packages too) are not code.
    const js = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of js.matchAll(/(?:^|[;\s])(?:import|export)\s*(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]/g)) {
      const spec = m[1];
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
    }
  };
  visit(join(ROOT, entry));
  return packages;
}

const esm = (subpath: string, cond = 'import') => (pkg.exports[subpath][cond].default ?? pkg.exports[subpath][cond].import) as string;

beforeAll(() => {
  if (!existsSync(join(ROOT, esm('.')))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
});
afterAll(() => removeTarball());

test('@tensorflow/tfjs-core and @tensorflow/tfjs-layers are required peers; backends are optional', () => {
  expect(required.sort()).toEqual(['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers']);
  for (const p of peers.filter((x) => !required.includes(x))) expect([p, optional.has(p)]).toEqual([p, true]);
});

test.each([['node build', '.', 'import'], ['browser build', '.', 'browser']])(
  'the main entry (%s) imports exactly its dependencies and required peers', (_name, subpath, cond) => {
    const imported = [...importedPackages(esm(subpath, cond))];
    const nodeBuiltins = imported.filter((p) => p.startsWith('node:') || builtinModules.includes(p));
    expect(nodeBuiltins).toEqual([]);
    expect(imported.filter((p) => !required.includes(p) && !deps.includes(p))).toEqual([]);
    expect(required.filter((p) => !imported.includes(p))).toEqual([]);
  });

test.each(Object.keys(pkg.exports).filter((s) => s !== '.' && s !== './package.json').map((s) => [s] as const))(
  '%s imports only declared packages', (subpath) => {
    const imported = [...importedPackages(esm(subpath))].filter((p) => !p.startsWith('node:') && !builtinModules.includes(p));
    expect(imported.filter((p) => !peers.includes(p) && !deps.includes(p))).toEqual([]);
  });

test('without @tensorflow/tfjs-layers installed, importing tfjs-norms fails naming it', () => {
  const c = makeConsumer('no-layers', {links: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-cpu', 'commander']});
  try {
    c.write('main.mjs', "import 'tfjs-norms';\n");
    let err = '';
    try {
      execFileSync(process.execPath, ['main.mjs'], {cwd: c.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
    } catch (e) {
      err = (e as {stderr?: string}).stderr ?? '';
    }
    expect(err).toMatch(/Cannot find (package|module) '@tensorflow\/tfjs-layers'/);
  } finally {
    c.remove();
  }
});
