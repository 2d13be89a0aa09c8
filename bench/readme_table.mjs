// Prints the benchmark summary table of README.md from bench/results/*.json: node bench/readme_table.mjs
import {readFileSync} from 'node:fs';
const fmt = (ms) => ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
const pick = [['BatchNorm training NCHW', 'forward'], ['BatchNorm training NCHW', 'forward+backward'],
  ['BatchNorm training NHWC', 'forward+backward'], ['GroupNorm (32 groups) NHWC', 'forward+backward'],
  ['InstanceNorm NCHW', 'forward+backward'], ['LayerNorm', 'forward+backward']];
const out = ['| backend | op | shape | pass | tfjs-norms | tfjs today | speedup |', '|---|---|---|---|---:|---:|---:|'];
for (const s of ['cpu', 'webgl', 'webgpu', 'tensorflow']) {
  const r = JSON.parse(readFileSync(`bench/results/${s}.json`, 'utf8'));
  for (const [op, mode] of pick) {
    const x = r.rows.find((y) => y.op === op && y.mode === mode);
    if (!x) continue;
    const who = x.baselineName.startsWith('tf.layers') ? 'tf.layers' : 'tf.moments';
    const base = x.baselineMs === null ? `fails (${who}${op.includes('NCHW') ? ', axis 1' : ''})` : `${fmt(x.baselineMs)} ms (${who})`;
    const sp = x.baselineMs === null ? '—' : ((r) => (r < 10 ? r.toFixed(1) : r.toFixed(0)))(x.baselineMs / x.oursMs) + '×';
    out.push(`| ${s} | ${op} | [${x.shape}] | ${mode} | ${fmt(x.oursMs)} ms | ${base} | ${sp} |`);
  }
}
console.log(out.join('\n'));
