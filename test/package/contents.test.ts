/**
 * What `npm pack` puts in the tarball: the built code, bin, Markdown docs, README and LICENSE;
 * no source maps, no images or other large files; the size the README states.
 */
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {packInfo, ROOT} from './support/consumer.js';

const info = packInfo();

test('only dist/, bin/, Markdown docs, README.md, LICENSE and package.json ship', () => {
  const unexpected = info.files.filter((f) => !/^(dist\/|bin\/|docs\/.*\.md$|README\.md$|LICENSE$|package\.json$)/.test(f));
  expect(unexpected).toEqual([]);
  expect(info.files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'bin/tfjs-norms.cjs', 'dist/tfjs-norms.min.js',
    'dist/esm/src/index.js', 'dist/esm/src/browser.js', 'dist/cjs/src/index.js', 'dist/cjs/src/index.d.ts',
    'dist/cjs/src/cli/setup_node.js', 'docs/webgl.md']));
});

test('no source maps and no images', () => {
  expect(info.files.filter((f) => /\.(map|png|jpe?g|gif|svg|webp)$/.test(f))).toEqual([]);
});

test('the README states the packed size (within 15%)', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = /`npm pack`: about (\d+) kB \(([\d.]+) MB unpacked/.exec(readme);
  expect(m).not.toBeNull();
  const [stated, unpacked] = [Number(m![1]) * 1000, Number(m![2]) * 1e6];
  expect(Math.abs(info.size - stated) / stated).toBeLessThan(0.15);
  expect(Math.abs(info.unpackedSize - unpacked) / unpacked).toBeLessThan(0.15);
  // Small: well under a megabyte packed.
  expect(info.size).toBeLessThan(500_000);
});

test('LICENSE is the Apache License 2.0 that package.json names', () => {
  const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
  expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).license).toBe('Apache-2.0');
  expect(license).toMatch(/Apache License\s+Version 2\.0, January 2004/);
  expect(license).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
  expect(license).toContain('END OF TERMS AND CONDITIONS');
});
