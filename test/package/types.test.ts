/**
 * TypeScript consumers of the packed package: `tsc --noEmit` in fresh projects with
 * `moduleResolution: bundler`, `node16` ESM, `node16` CommonJS (`import tfn = require(...)`) and
 * the legacy `node10`, each using the API with its types (a `@ts-expect-error` proves the declarations were found,
 * not `any`) and importing every name the README and docs import from a tfjs-norms entry point.
 */
import {execFileSync} from 'node:child_process';
import {readdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {makeConsumer, REPO_MODULES, removeTarball, ROOT, type Consumer} from './support/consumer.js';

/** `import {…} from 'tfjs-norms…'` statements in the js/ts code blocks of the README and docs. */
function docImports(): Map<string, Set<string>> {
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs'), {recursive: true}).map(String)
    .filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  const byModule = new Map<string, Set<string>>();
  for (const f of files) {
    const md = readFileSync(join(ROOT, f), 'utf8');
    for (const block of md.matchAll(/```(?:js|ts|javascript|typescript)\n([\s\S]*?)```/g)) {
      for (const m of block[1].matchAll(/import\s*\{([^}]*)\}\s*from\s*'(tfjs-norms(?:\/[a-z]+)?)'/g)) {
        const names = byModule.get(m[2]) ?? new Set<string>();
        m[1].split(',').map((s) => s.trim()).filter(Boolean).forEach((s) => names.add(s));
        byModule.set(m[2], names);
      }
    }
  }
  return byModule;
}

const DOC_IMPORTS = docImports();
const docImportLines = () => [...DOC_IMPORTS].map(([mod, names]) => `import {${[...names].join(', ')}} from '${mod}';`).join('\n');

const USE_ESM = `
import * as tf from '@tensorflow/tfjs-core';
import * as tfn from 'tfjs-norms';
import {batchNorm, collective, layers, type CollectiveTransport} from 'tfjs-norms';
import 'tfjs-norms/webgl';
import {initFromEnv, enableTrainingFusedBatchNorm} from 'tfjs-norms/node';

const transport: CollectiveTransport = {rank: 0, worldSize: 1, allReduceSum: (d: Float64Array) => d, close() {}};
collective.init(transport);
const out: {y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor} = batchNorm(tf.ones([2, 3]), {training: true});
const layer = layers.layerNormalization({axis: -1});
const name: string = layer.getClassName();
// @ts-expect-error groups is a number
tfn.groupNorm(out.y, {groups: 'two'});
export const used = [initFromEnv, enableTrainingFusedBatchNorm, name];
`;

const USE_CJS = `
import tf = require('@tensorflow/tfjs-core');
import tfn = require('tfjs-norms');
import tfnNode = require('tfjs-norms/node');
import 'tfjs-norms/webgl';

const transport: tfn.CollectiveTransport = {rank: 0, worldSize: 1, allReduceSum: (d: Float64Array) => d, close() {}};
tfn.collective.init(transport);
const out: {y: tf.Tensor} = tfn.batchNorm(tf.ones([2, 3]), {training: true});
// @ts-expect-error groups is a number
tfn.groupNorm(out.y, {groups: 'two'});
export const used = [tfnNode.initFromEnv, tfn.layers.batchNormalization({}).getClassName()];
`;

// Declarations are checked too (skipLibCheck false), but only errors in tfjs-norms' own files and
// the project's count: tfjs 4.22's declarations do not pass strict checking themselves.
const COMPILER = {strict: true, noEmit: true, skipLibCheck: false, types: [], lib: ['ES2022', 'DOM'], target: 'ES2022'};
const OURS = /^(main\.ts|doc_imports\.ts|node_modules\/tfjs-norms\/)/;

const PROJECTS: Array<{name: string; type: 'module' | 'commonjs'; options: object; source: string}> = [
  {name: 'bundler', type: 'module', options: {module: 'ESNext', moduleResolution: 'bundler'}, source: USE_ESM},
  {name: 'node16 ESM', type: 'module', options: {module: 'node16', moduleResolution: 'node16'}, source: USE_ESM},
  {name: 'node16 CommonJS', type: 'commonjs', options: {module: 'node16', moduleResolution: 'node16'}, source: USE_CJS},
  // The pre-`exports` resolution (TypeScript's `node10`), through `types` and `typesVersions`.
  {name: 'node10 CommonJS', type: 'commonjs', options: {module: 'commonjs', moduleResolution: 'node10', esModuleInterop: true}, source: USE_CJS},
];

const consumers: Consumer[] = [];
afterAll(() => {
  consumers.forEach((c) => c.remove());
  removeTarball();
});

test('the docs import names from tfjs-norms (the scan found them)', () => {
  expect([...DOC_IMPORTS.get('tfjs-norms') ?? []]).toEqual(expect.arrayContaining(['batchNorm', 'collective', 'type CollectiveTransport']));
});

test.each(PROJECTS.map((p) => [p.name, p] as const))('tsc --noEmit: %s', (name, p) => {
  const c = makeConsumer(name.replace(/\W/g, '-'), {type: p.type});
  consumers.push(c);
  c.write('tsconfig.json', JSON.stringify({compilerOptions: {...COMPILER, ...p.options}, files: ['main.ts', 'doc_imports.ts']}, null, 2));
  c.write('main.ts', p.source);
  // In CommonJS, the doc's ESM imports become require calls, as in a CommonJS TypeScript project.
  c.write('doc_imports.ts', `${docImportLines()}\nexport {};\n`);
  let out = '';
  try {
    out = execFileSync(process.execPath, [join(REPO_MODULES, 'typescript', 'bin', 'tsc'), '-p', '.', '--pretty', 'false'],
      {cwd: c.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']});
  } catch (e) {
    out = (e as {stdout?: string}).stdout ?? String(e);
  }
  const errors = out.split('\n').filter((l) => /error TS\d+/.test(l));
  expect(errors.filter((l) => OURS.test(l))).toEqual([]);
  // Anything else is tfjs's own declarations under strict checking; it must not hide a missing module.
  expect(errors.filter((l) => /TS2307|TS1479|TS2305|TS2614/.test(l))).toEqual([]);
}, 120_000);
