/**
 * Bar charts of a benchmark section (docs/benchmarks-<section>.png): for every op and pass, the
 * speedup over the tfjs baseline and the time relative to the `x.add(1)` yardstick at ideal
 * traffic, both on log scales, with the section's targets drawn on each row. Rendered as SVG
 * and converted to PNG with @resvg/resvg-js (system fonts; DejaVu Sans on Debian).
 */
import {Resvg} from '@resvg/resvg-js';
import type {Row, SectionResult} from './report.js';
import {speedup, targetsFor, yardstickRatio} from './report.js';

const FONT = 'DejaVu Sans';
const COLORS: Record<string, string> = {'forward': '#4e79a7', 'forward+backward': '#f28e2b'};
const TARGET = '#b3261e';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A log10 axis over [lo, hi] mapped to [x0, x0 + w], with ticks at 1-3-10 steps inside it. */
class LogAxis {
  readonly lo: number;
  readonly hi: number;
  constructor(values: number[], readonly x0: number, readonly w: number, floor: number) {
    const pos = values.filter((v) => v > 0 && Number.isFinite(v));
    const lo = Math.min(floor, ...pos.map((v) => v / 1.5));
    const hi = Math.max(floor * 3, ...pos.map((v) => v * 1.6));
    this.lo = 10 ** (Math.floor(Math.log10(lo) * 2) / 2);
    this.hi = 10 ** (Math.ceil(Math.log10(hi) * 2) / 2);
  }
  x(v: number): number {
    const c = Math.min(Math.max(v, this.lo), this.hi);
    return this.x0 + ((Math.log10(c) - Math.log10(this.lo)) / (Math.log10(this.hi) - Math.log10(this.lo))) * this.w;
  }
  ticks(): number[] {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(this.lo)) - 1; e <= Math.ceil(Math.log10(this.hi)); e++) {
      for (const m of [1, 3]) {
        const v = m * 10 ** e;
        if (v >= this.lo * 0.999 && v <= this.hi * 1.001) out.push(v);
      }
    }
    return out;
  }
}

function tickLabel(v: number): string {
  return v >= 1 ? `${Number(v.toPrecision(2))}×` : `${Number(v.toPrecision(1))}×`;
}

function rowLabel(r: Row): string {
  return `${r.op} · ${r.mode === 'forward' ? 'fwd' : 'fwd+bwd'}`;
}

/** The SVG chart of one section (null when it has no op rows). */
export function sectionChartSvg(s: SectionResult): string | null {
  const rows = s.rows;
  if (rows.length === 0) return null;
  const rowH = 24, top = 84, labelW = 300, panelW = 360, gap = 70, right = 40;
  const W = labelW + 2 * panelW + gap + right;
  const H = top + rows.length * rowH + 58;
  const sp = new LogAxis(rows.flatMap((r) => [speedup(r) ?? 1,
    ...targetsFor(s.section, r).filter((t) => t.kind === 'speedup').map((t) => t.value)]), labelW, panelW, 1);
  const ys = new LogAxis(rows.flatMap((r) => [yardstickRatio(r),
    ...targetsFor(s.section, r).filter((t) => t.kind === 'yardstick').map((t) => t.value)]), labelW + panelW + gap, panelW, 1);
  const out: string[] = [];
  const y0 = top, y1 = top + rows.length * rowH;
  const grid = (a: LogAxis, title: string, one: boolean) => {
    out.push(`<text x="${a.x0 + a.w / 2}" y="${top - 32}" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`);
    for (const t of a.ticks()) {
      const x = a.x(t).toFixed(1);
      const strong = one && t === 1;
      out.push(`<line x1="${x}" y1="${y0 - 6}" x2="${x}" y2="${y1}" stroke="${strong ? '#555' : '#ddd'}" stroke-width="${strong ? 1.2 : 1}"/>`,
        `<text x="${x}" y="${y0 - 10}" text-anchor="middle" font-size="11" fill="#444">${tickLabel(t)}</text>`,
        `<text x="${x}" y="${y1 + 15}" text-anchor="middle" font-size="11" fill="#444">${tickLabel(t)}</text>`);
    }
  };
  grid(sp, 'speedup over the tfjs baseline (higher is better)', true);
  grid(ys, 'time ÷ x.add(1) at ideal traffic (lower is better)', true);
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const cy = y + rowH / 2;
    if (i % 2 === 0) out.push(`<rect x="4" y="${y}" width="${W - 8}" height="${rowH}" fill="#f6f6f6"/>`);
    out.push(`<text x="${labelW - 10}" y="${cy + 4}" text-anchor="end" font-size="12">${esc(rowLabel(r))}</text>`);
    const color = COLORS[r.mode] ?? '#888';
    const s1 = speedup(r);
    if (s1 === null) {
      out.push(`<text x="${sp.x(1) + 6}" y="${cy + 4}" font-size="11" fill="${TARGET}">baseline fails: ours runs (${esc(r.oursMs.toPrecision(3))} ms)</text>`);
    } else {
      const a = sp.x(Math.min(1, s1)), b = sp.x(Math.max(1, s1));
      const lim = targetsFor(s.section, r).filter((t) => t.kind === 'speedup').map((t) => sp.x(t.value));
      const lx = Math.max(b, ...lim.filter((x) => Math.abs(x - b) < 40)) + 5;
      out.push(`<rect x="${a.toFixed(1)}" y="${y + 5}" width="${Math.max(1, b - a).toFixed(1)}" height="${rowH - 10}" fill="${s1 >= 1 ? color : '#999'}"/>`,
        `<text x="${lx.toFixed(1)}" y="${cy + 4}" font-size="11">${s1.toFixed(1)}×</text>`);
    }
    const yr = yardstickRatio(r);
    const ya = ys.x(ys.lo), yb = ys.x(yr);
    // The value label goes right of the bar, or of the limit line when that is close.
    const limits = targetsFor(s.section, r).filter((t) => t.kind === 'yardstick').map((t) => ys.x(t.value));
    const lx = Math.max(yb, ...limits.filter((x) => Math.abs(x - yb) < 40)) + 5;
    out.push(`<rect x="${ya.toFixed(1)}" y="${y + 5}" width="${Math.max(1, yb - ya).toFixed(1)}" height="${rowH - 10}" fill="${color}" opacity="0.85"/>`,
      `<text x="${lx.toFixed(1)}" y="${cy + 4}" font-size="11">${yr.toFixed(2)}×</text>`);
    for (const t of targetsFor(s.section, r)) {
      const a = t.kind === 'speedup' ? sp : ys;
      if (t.kind === 'speedup' && s1 === null) continue;
      const x = a.x(t.value).toFixed(1);
      out.push(`<line x1="${x}" y1="${y + 2}" x2="${x}" y2="${y + rowH - 2}" stroke="${TARGET}" stroke-width="2.5"/>`);
    }
  });
  const legendY = H - 22;
  out.push(
    `<rect x="${labelW}" y="${legendY - 10}" width="14" height="12" fill="${COLORS['forward']}"/>`,
    `<text x="${labelW + 20}" y="${legendY}" font-size="12">forward</text>`,
    `<rect x="${labelW + 100}" y="${legendY - 10}" width="14" height="12" fill="${COLORS['forward+backward']}"/>`,
    `<text x="${labelW + 120}" y="${legendY}" font-size="12">forward+backward</text>`,
    `<line x1="${labelW + 270}" y1="${legendY - 11}" x2="${labelW + 270}" y2="${legendY + 2}" stroke="${TARGET}" stroke-width="2.5"/>`,
    `<text x="${labelW + 278}" y="${legendY}" font-size="12">target (speedup: at least; yardstick: at most)</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="${FONT}">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">${esc(`tfjs-norms on the ${s.backend} backend (${s.date})`)}</text>
<text x="${W / 2}" y="40" text-anchor="middle" font-size="11" fill="#444">${esc('median times measured side by side in one run; both axes log scale')}</text>
${out.join('\n')}
</svg>`;
}

/** SVG to PNG (2× scale for sharp text). */
export function svgToPng(svg: string): Buffer {
  return new Resvg(svg, {fitTo: {mode: 'zoom', value: 2}, font: {loadSystemFonts: true, defaultFontFamily: FONT}})
    .render().asPng();
}
