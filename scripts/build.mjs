// Builds dist/esm (ES modules + .d.ts), dist/cjs (CommonJS + .d.ts read as CommonJS through
// dist/cjs/package.json) and the browser bundle dist/tfjs-norms.min.js (global `tfnorms`, using
// the global `tf` of the tfjs union bundle). No source maps: the package ships no sources for
// them to point at, and tsc's output is readable as it is.
import {execFileSync} from 'node:child_process';
import {mkdirSync, rmSync, writeFileSync} from 'node:fs';
import * as esbuild from 'esbuild';

const tsc = (args) => execFileSync('npx', ['tsc', ...args], {stdio: 'inherit'});
const common = ['-p', 'tsconfig.build.json', '--sourceMap', 'false', '--declarationMap', 'false'];

rmSync('dist', {recursive: true, force: true});
tsc([...common, '--outDir', 'dist/esm']);
// Written first so that tsc emits the CommonJS .d.ts files next to a `type: commonjs` marker.
mkdirSync('dist/cjs', {recursive: true});
writeFileSync('dist/cjs/package.json', JSON.stringify({type: 'commonjs'}) + '\n');
tsc([...common, '--outDir', 'dist/cjs', '--module', 'commonjs', '--moduleResolution', 'node']);

// Every @tensorflow/* import resolves to the page's global `tf`.
const globalTf = {
  name: 'global-tf',
  setup(build) {
    build.onResolve({filter: /^@tensorflow\//}, (args) => ({path: args.path, namespace: 'global-tf'}));
    build.onLoad({filter: /.*/, namespace: 'global-tf'}, () => ({contents: 'module.exports = globalThis.tf;'}));
  },
};
// The browser entry reaches no Node built-in (test/package checks it), so nothing is external:
// esbuild fails the build if one ever becomes reachable.
await esbuild.build({
  entryPoints: ['scripts/browser_entry.ts'],
  bundle: true,
  minify: true,
  format: 'iife',
  globalName: 'tfnorms',
  target: 'es2020',
  platform: 'browser',
  outfile: 'dist/tfjs-norms.min.js',
  plugins: [globalTf],
  logLevel: 'warning',
});
console.log('built dist/esm, dist/cjs, dist/tfjs-norms.min.js');
