/**
 * The dependency direction of docs/architecture.md, checked on the sources' import graph:
 *   core (src/{kernel_names,norm_view,activation,flags,ops/validate,ops/types}.ts)
 *     ← kernels/** ← library (src/ops, gradients, layers, collective, convert, cli, ...)
 *     ← entry points (src/{public_api,index,browser,webgl,node,wasm}.ts).
 * A module may import only modules of its own layer or below; backends' kernels share only the
 * cpu loops/io (wasm runs them on its heap) and the composite path.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs';
import {dirname, join, posix, relative, resolve} from 'node:path';

const ROOT = resolve(__dirname, '../..');
const CORE = ['src/kernel_names.ts', 'src/norm_view.ts', 'src/activation.ts', 'src/flags.ts', 'src/ops/validate.ts',
  'src/ops/types.ts'];
const ENTRIES = ['src/public_api.ts', 'src/index.ts', 'src/browser.ts', 'src/webgl.ts', 'src/node.ts', 'src/wasm.ts'];
const LAYERS = ['core', 'kernels', 'library', 'entry'] as const;
type Layer = typeof LAYERS[number];

function layerOf(file: string): Layer {
  if (CORE.includes(file)) return 'core';
  if (file.startsWith('kernels/')) return 'kernels';
  if (ENTRIES.includes(file)) return 'entry';
  return 'library';
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = posix.join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sources(path);
    return /\.ts$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Relative imports (static, re-exports and dynamic) of `file`, as repository paths of .ts files. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*)'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]);
  return specs.map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)).split('\\').join('/').replace(/\.js$/, '.ts'));
}

const files = [...sources('src'), ...sources('kernels')];
const edges = files.flatMap((from) => importsOf(from).map((to) => ({from, to})));

test('the scan sees the graph (kernels import core, entry points import kernels)', () => {
  expect(files).toEqual(expect.arrayContaining([...CORE, ...ENTRIES, 'kernels/cpu/norm_loops.ts']));
  expect(edges).toContainEqual({from: 'kernels/cpu/norm_loops.ts', to: 'src/activation.ts'});
  expect(edges).toContainEqual({from: 'src/public_api.ts', to: 'kernels/cpu/register_all.ts'});
  for (const {to} of edges) expect(files).toContain(to);
});

test('every import points to its own layer or below', () => {
  const upward = edges.filter(({from, to}) => LAYERS.indexOf(layerOf(to)) > LAYERS.indexOf(layerOf(from)))
    .map(({from, to}) => `${from} (${layerOf(from)}) imports ${to} (${layerOf(to)})`);
  expect(upward).toEqual([]);
});

test('core imports only core', () => {
  const bad = edges.filter(({from, to}) => layerOf(from) === 'core' && layerOf(to) !== 'core');
  expect(bad).toEqual([]);
});

test("a backend's kernels import no other backend's, except the shared cpu loops/io and the composite path", () => {
  const backend = (f: string) => f.split('/')[1];
  const bad = edges.filter(({from, to}) => layerOf(from) === 'kernels' && layerOf(to) === 'kernels' &&
    backend(from) !== backend(to) && !['cpu', 'composite'].includes(backend(to)))
    .map(({from, to}) => `${from} imports ${to}`);
  expect(bad).toEqual([]);
  // cpu's loops are shared with wasm; nothing but wasm reaches into them.
  const cpuUsers = new Set(edges.filter(({from, to}) => backend(to) === 'cpu' && layerOf(from) === 'kernels' &&
    backend(from) !== 'cpu').map(({from}) => backend(from)));
  expect([...cpuUsers]).toEqual(['wasm']);
});
