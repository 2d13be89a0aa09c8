/**
 * `npm run bench [-- --sections cpu --quick]`: runs the benchmark sections, saves each one's
 * results under bench/results/ and renders docs/benchmarks.md from all saved sections.
 */
import {parseArgs} from 'node:util';
import {meets, renderAll, saveSection, targetsFor} from './report.js';
import {runCollective} from './sections/collective.js';
import {runCpu} from './sections/cpu.js';
import {runDefaultLayers} from './sections/default_layers.js';
import {runMemory} from './sections/memory.js';
import {runOrt} from './sections/ort.js';
import {runTensorflow} from './sections/tensorflow.js';
import {runComposite, runWasm} from './sections/wasm.js';
import {runWebgl} from './sections/webgl.js';

const {values} = parseArgs({options: {
  sections: {type: 'string', default: 'cpu,webgl,tensorflow,wasm,composite,collective,memory,defaultLayers,ort'},
  quick: {type: 'boolean', default: false},
}});

const opts = values.quick ? {warmup: 1, minRuns: 3, minMs: 200} : {warmup: 3, minRuns: 9, minMs: 3000};
const sections: Record<string, typeof runCpu> = {
  cpu: runCpu, webgl: runWebgl, tensorflow: runTensorflow, wasm: runWasm, composite: runComposite,
  collective: runCollective, memory: runMemory, defaultLayers: runDefaultLayers, ort: runOrt,
};

let missed = 0;
for (const name of values.sections!.split(',')) {
  const run = sections[name];
  if (!run) throw new Error(`unknown section '${name}' (known: ${Object.keys(sections).join(', ')})`);
  const result = await run(opts, (s) => console.log(s));
  saveSection(result);
  for (const c of result.extra?.checks ?? []) {
    if (!c.pass) {
      missed++;
      console.log(`target missed: ${name} ${c.label}`);
    }
  }
  for (const r of result.rows) {
    for (const t of targetsFor(name, r)) {
      if (meets(t, r) === false) {
        missed++;
        console.log(`target missed: ${name} ${r.op} ${r.mode} ${t.kind} ${t.value}`);
      }
    }
  }
}
renderAll();
console.log(`wrote docs/benchmarks.md (${missed} target(s) missed)`);
