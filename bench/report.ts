/**
 * Section results (bench/results/<section>.json) and what they render to: docs/benchmarks.md and
 * a chart per op section, docs/benchmarks-<section>.png (bench/chart.ts).
 */
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {sectionChartSvg, svgToPng} from './chart.js';
import {TARGETS, type Target} from './targets.js';
import type {Mode} from './workloads.js';

export interface Row {
  op: string;
  shape: number[];
  mode: Mode;
  traffic: number;
  oursMs: number;
  baselineName: string;
  baselineMs: number | null;
  baselineError?: string;
  addMs: number;
  /** The plain JavaScript loop yardstick (cpu section), same rounds. */
  jsLoopMs?: number;
}

export interface SectionResult {
  section: string;
  backend: string;
  environment: string;
  date: string;
  rows: Row[];
  /** Sections that are not op-vs-baseline tables (e.g. collectives) add their own. */
  extra?: {markdown: string; checks: Array<{label: string; pass: boolean}>};
}

const RESULTS = 'bench/results';

/**
 * Writes a section's results. With `TFJS_NORMS_BENCH_ONLY` set (a partial run), the new rows
 * replace the saved rows of the same op, shape and mode and everything else saved is kept.
 */
export function saveSection(result: SectionResult): void {
  mkdirSync(RESULTS, {recursive: true});
  const file = join(RESULTS, `${result.section}.json`);
  if (process.env.TFJS_NORMS_BENCH_ONLY && existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as SectionResult;
    const key = (r: Row) => `${r.op}|${r.shape}|${r.mode}`;
    const fresh = new Map(result.rows.map((r) => [key(r), r]));
    const rows = saved.rows.map((r) => fresh.get(key(r)) ?? r);
    for (const r of result.rows) if (!saved.rows.some((s) => key(s) === key(r))) rows.push(r);
    result = {...saved, rows, extra: result.extra ?? saved.extra};
  }
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
}

export function speedup(r: Row): number | null {
  return r.baselineMs === null ? null : r.baselineMs / r.oursMs;
}

/** Our time over the yardstick's time scaled to our ideal traffic (1 = memory speed). */
export function yardstickRatio(r: Row, yardstickMs = r.addMs): number {
  return r.oursMs / (yardstickMs * r.traffic / 2);
}

export function targetsFor(section: string, r: Row): Target[] {
  return (TARGETS[section] ?? []).filter((t) => t.mode === r.mode && t.op.test(r.op));
}

export function meets(t: Target, r: Row): boolean | null {
  if (t.kind === 'yardstick') return yardstickRatio(r) <= t.value;
  const s = speedup(r);
  return s === null ? (r.baselineError ? true : null) : s >= t.value;
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

/** How a section was measured, where it differs from the others. */
const NOTES: Record<string, string> = {
  webgl: 'Each call is synchronized by reading back one element of each output (so downloads do not ' +
    'dominate). Ours, the baseline and the yardstick run in interleaved rounds: SwiftShader renders on ' +
    'the CPU cores, which other work shares, so only side-by-side ratios are stable. Inputs are packed ' +
    'textures, as the output of most tfjs ops (e.g. conv2d, matMul, add) is.',
  wasm: 'Ours is the cpu kernels\' JavaScript loops on views of the wasm heap; the baselines and the ' +
    'x.add(1) yardstick are tfjs-backend-wasm\'s SIMD C++ kernels, which a JavaScript loop cannot match ' +
    'element for element (docs/kernels.md, "wasm kernels": a SIMD wasm build of the apply and statistics ' +
    'loops measured about 3x faster than the JavaScript ones). Interleaved rounds: only side-by-side ratios ' +
    'are stable when other work shares the cores.',
  composite: 'The composite path on wasm: every op as tfjs kernels of the backend (TFJS_NORMS_COMPOSITE), ' +
    'the path of a backend without kernels of ours.',
  webgpu: 'Each call waits for one element of each output, read asynchronously (WebGPU has no ' +
    'synchronous read-back). Interleaved rounds as on webgl: the SwiftShader adapter runs on the CPU ' +
    'cores. Bytes the WGSL kernels move per op (S = the tensor\'s size): forward 3S (statistics read x; ' +
    'apply reads x, writes y: the ideal); forward+backward 8S for BatchNorm (the per-slot sums come from ' +
    'the per-channel ones) and 10S for LayerNorm/GroupNorm/InstanceNorm (a per-channel and a per-slot ' +
    'reduction each read x and dy) and RMSNorm (per-row sums and dgamma\'s column sums), against the ideal ' +
    '8S; docs/webgpu.md.',
};

function renderSection(s: SectionResult, chart: string | null): string {
  const js = s.rows.some((r) => r.jsLoopMs !== undefined);
  const lines = s.rows.length === 0 ? [`## ${s.section}`, '', `${s.environment}; ${s.date}.`] : [
    `## ${s.section} backend`,
    '',
    `${s.environment}; ${s.date}. Median wall time per call in ms.`,
    '',
    ...(chart ? [`![${s.section}: speedup over the tfjs baselines and time relative to the x.add(1) yardstick](${chart})`, ''] : []),
    `| op | shape | pass | ours | baseline | baseline ms | speedup | x.add(1) ms | vs yardstick |${js ? ' JS loop ms | vs JS loop |' : ''} targets |`,
    `|---|---|---|---:|---|---:|---:|---:|---:|${js ? '---:|---:|' : ''}---|`,
  ];
  for (const r of s.rows) {
    const sp = speedup(r);
    const targets = targetsFor(s.section, r).map((t) => {
      const ok = meets(t, r);
      // A baseline that fails where ours runs meets a speedup target; say so rather than a ratio.
      const label = t.kind === 'speedup'
        ? (r.baselineMs === null && r.baselineError ? 'baseline fails, ours runs' : `≥${t.value}× faster`)
        : `≤${t.value}× yardstick`;
      return `${ok === null ? '?' : ok ? '✅' : '❌'} ${label}`;
    }).join(', ');
    lines.push(`| ${r.op} | [${r.shape}] | ${r.mode} | ${fmt(r.oursMs)} | ${r.baselineName} | ` +
      `${r.baselineMs === null ? `fails: ${r.baselineError ?? 'n/a'}` : fmt(r.baselineMs)} | ` +
      `${sp === null ? '—' : sp.toFixed(1) + '×'} | ${fmt(r.addMs)} | ${yardstickRatio(r).toFixed(2)}× | ` +
      (js ? (r.jsLoopMs === undefined ? '— | — | ' : `${fmt(r.jsLoopMs)} | ${yardstickRatio(r, r.jsLoopMs).toFixed(2)}× | `) : '') +
      `${targets} |`);
  }
  if (s.extra) lines.push('', s.extra.markdown);
  if (s.rows.length) {
    lines.push('', '"vs yardstick" is our time divided by the `x.add(1)` time scaled to our ideal memory ' +
      'traffic, in tensor sizes moved (an add reads x and writes the result: 2). Forward: read x twice ' +
      '(statistics, apply) and write y, 3 = 1.5 adds; forward+backward: that plus reading dy and x twice ' +
      '(reduce, apply) and writing dx, 8 = 4 adds.' + (js ? ' "vs JS loop" scales the same way a plain JavaScript ' +
      'loop `y[i] = x[i] + 1` into a new Float32Array of the same size, timed in the same rounds: the true memory ' +
      'yardstick of a JavaScript kernel (tfjs\'s cpu `x.add(1)` is several times slower than it, which flatters ' +
      'the "vs yardstick" column).' : ''));
    if (NOTES[s.section]) lines.push('', NOTES[s.section]);
    lines.push('');
  }
  return lines.join('\n');
}

/** Writes docs/benchmarks-<section>.png for a section with op rows; returns its name (relative to docs/). */
export function writeChart(s: SectionResult, dir = 'docs'): string | null {
  const svg = sectionChartSvg(s);
  if (svg === null) return null;
  const name = `benchmarks-${s.section}.png`;
  writeFileSync(join(dir, name), svgToPng(svg));
  return name;
}

export function renderAll(): string {
  const sections = existsSync(RESULTS)
    ? readdirSync(RESULTS).filter((f) => f.endsWith('.json')).sort()
        .map((f) => JSON.parse(readFileSync(join(RESULTS, f), 'utf8')) as SectionResult)
    : [];
  const charts = sections.map((s) => writeChart(s));
  const doc = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts). Each section compares, in one run on one machine, ' +
    'every op of tfjs-norms with what a tfjs user has today: `tf.layers.batchNormalization` in ' +
    'training, `tf.layers.layerNormalization`, and GroupNorm/InstanceNorm built from `tf.moments`. ' +
    'Forward+backward runs the forward pass and then the gradients with respect to x, gamma and beta ' +
    'for a given upstream gradient `dy` (`tf.engine().gradients(f, [x, gamma, beta], dy)`), the layer\'s share of a training step. Ratios matter, not absolute times: these machines are noisy.',
    '',
    ...sections.map((s, i) => renderSection(s, charts[i])),
  ].join('\n');
  writeFileSync('docs/benchmarks.md', doc);
  return doc;
}
