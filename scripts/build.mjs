// Builds dist/esm (ES modules), dist/cjs (CommonJS), the .d.ts files and the browser bundle
// dist/tfjs-norms.min.js (global `tfnorms`, using the global `tf` of the tfjs union bundle).
import {execFileSync} from 'node:child_process';
import {mkdirSync, rmSync, writeFileSync} from 'node:fs';
import * as esbuild from 'esbuild';

const tsc = (args) => execFileSync('npx', ['tsc', ...args], {stdio: 'inherit'});

rmSync('dist', {recursive: true, force: true});
tsc(['-p', 'tsconfig.build.json', '--outDir', 'dist/esm']);
tsc(['-p', 'tsconfig.build.json', '--outDir', 'dist/cjs', '--module', 'commonjs',
     '--moduleResolution', 'node', '--declaration', 'false']);
mkdirSync('dist/cjs', {recursive: true});
writeFileSync('dist/cjs/package.json', JSON.stringify({type: 'commonjs'}) + '\n');

// Every @tensorflow/* import resolves to the page's global `tf`.
const globalTf = {
  name: 'global-tf',
  setup(build) {
    build.onResolve({filter: /^@tensorflow\//}, (args) => ({path: args.path, namespace: 'global-tf'}));
    build.onLoad({filter: /.*/, namespace: 'global-tf'}, () => ({contents: 'module.exports = globalThis.tf;'}));
  },
};
await esbuild.build({
  entryPoints: ['scripts/browser_entry.ts'],
  bundle: true,
  minify: true,
  format: 'iife',
  globalName: 'tfnorms',
  target: 'es2020',
  outfile: 'dist/tfjs-norms.min.js',
  plugins: [globalTf],
  // Node-only code (the TCP transport's network thread) is never run in a browser.
  external: ['node:*'],
  logLevel: 'warning',
});
console.log('built dist/esm, dist/cjs, dist/tfjs-norms.min.js');
