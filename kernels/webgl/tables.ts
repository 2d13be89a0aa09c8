/**
 * The small tables the big passes read, and the GLSL that fetches them. On SwiftShader every
 * texel fetch costs about a third of an `x.add(1)` pass, so the layouts put what one texel of
 * x needs in as few texels as possible:
 *
 * - Channel table: texel p = (γ[2p], γ[2p+1], β[2p], β[2p+1]); channels last, one fetch serves
 *   both columns of a packed texel.
 * - Slot table: three texels per statistics slot s:
 *   - 3s   S = (shift, meanOffset, rstd, variance), with x̂ = ((x − shift) − meanOffset)·rstd;
 *   - 3s+1 A = (shift, P, Q, 0), the forward: z = (x − shift)·P + Q, then ·γ + β unless folded;
 *   - 3s+2 B = (shift, G, K1, K2), the backward apply: dx = dz·G(·γ unless folded) + (x − shift)·K1 + K2
 *     (from the output y, In-Place ABN: dx = dz·G·γ + x̂·K1 + K2).
 *   "Folded" tables (one channel per slot: BatchNorm, InstanceNorm) carry γ and β inside P, Q
 *   and G, so those passes read no channel table at all. Splitting `(x − shift)·P + Q` keeps the
 *   exact-mean property: x − shift is exact for data like 1000 + 0.01·noise and the offset term
 *   is of the data's spread, not of its magnitude.
 */
import type {NormView} from '../../src/norm_view.js';
import {gridFetch, gridFor, imod, type Grid} from './backend_util.js';
import {slotExpr, type SlotView} from './layout.js';

export const SLOT_TEXELS = 3;
export const ST_S = 0;
export const ST_A = 1;
export const ST_B = 2;

export function channelGrid(C: number): Grid {
  return gridFor(Math.ceil(C / 2));
}

export function slotGrid(slots: number): Grid {
  return gridFor(SLOT_TEXELS * slots);
}

/** Whether a slot table for this view folds γ and β into its coefficients. */
export function foldable(v: NormView, fromOutput: boolean): boolean {
  return v.cpg === 1 && !fromOutput;
}

/** GLSL: `vec2 ctGB_(int c)` = (γ, β) of channel c from the channel table `ct`. */
export function channelGlsl(ctGrid: Grid): string {
  return `
vec2 ctGB_(int c) {
  vec4 t = ${gridFetch('ct', ctGrid, 'c / 2')};
  return c - (c / 2) * 2 == 0 ? t.xz : t.yw;
}`;
}

/**
 * GLSL `vec4 slotTexel_(int kind, int s, float sh, float off, float rs, float variance, float k1,
 * float k2)`: texel `kind` (ST_S, ST_A, ST_B) of slot s, from its statistics and the backward
 * coefficients `dx = dz·γ·rs + x̂·k1 + k2`. Folded tables read (γ, β) of channel `s mod C`
 * through `gb(c)`, a GLSL vec2 expression.
 */
export function slotTexelGlsl(folded: boolean, fromOutput: boolean, C: number,
                              gb: (c: string) => string = (c) => `ctGB_(${c})`): string {
  return `
vec4 slotTexel_(int kind, int s, float sh, float off, float rs, float variance, float k1, float k2) {
  if (kind == ${ST_S}) return vec4(sh, off, rs, variance);
  float P = rs; float Q = -off * rs; float G = rs;
  ${folded ? `vec2 gb = ${gb(imod('s', C))}; P *= gb.x; Q = Q * gb.x + gb.y; G *= gb.x;` : ''}
  if (kind == ${ST_A}) return vec4(sh, P, Q, 0.0);
  return ${fromOutput ? 'vec4(sh, G, k1, k2)' : 'vec4(sh, G, rs * k1, k2 - off * rs * k1)'};
}`;
}

/**
 * One component of a packed texel, for table lookups: its sample `n` and channel `c` (GLSL int
 * expressions), and, when the texel's two columns are channels (c, c+1) of one channel pair,
 * `pairC`, the pair's even channel, with `odd` telling which of the two this component is.
 */
export interface CompNC {
  n: string;
  c: string;
  pairC?: string;
  odd?: boolean;
}

export interface GatherSpec {
  v: NormView;
  /** The norm view's slots (statistics of the tables). */
  sv: SlotView;
  /** Per component (0..3 = r, g, b, a), or null for components without data. */
  comps: Array<CompNC | null>;
  /** Channel table grid: assemble `vec4 g, bt`. */
  ctGrid?: Grid;
  /** Slot table grid and which texels to assemble, e.g. {kind: ST_B, fields: {sh: 'x', G: 'y'}}. */
  stGrid?: Grid;
  slotTexels?: Array<{kind: number; fields: Record<string, string>}>;
  /** Name prefix for the fetched texels (several gathers in one scope). */
  prefix: string;
}

/**
 * GLSL that fetches the table texels a texel (or an item of a reduction) needs, each distinct
 * one once (deduplicated by its index expression), and assembles per-component vec4s.
 */
export function gatherGlsl(s: GatherSpec): string {
  const lines: string[] = [];
  const names = new Map<string, string>();
  const fetchOnce = (expr: string) => {
    if (!names.has(expr)) {
      const name = `${s.prefix}${names.size}_`;
      names.set(expr, name);
      lines.push(`vec4 ${name} = ${expr};`);
    }
    return names.get(expr)!;
  };
  const {v} = s;
  if (s.ctGrid) {
    const g: string[] = [], b: string[] = [];
    for (const k of s.comps) {
      if (k === null) {
        g.push('1.0'); b.push('0.0');
      } else if (k.pairC !== undefined) {
        const t = fetchOnce(gridFetch('ct', s.ctGrid, `(${k.pairC}) / 2`));
        g.push(`${t}.${k.odd ? 'y' : 'x'}`); b.push(`${t}.${k.odd ? 'w' : 'z'}`);
      } else {
        const c = `min(${k.c}, ${v.C - 1})`;
        const t = fetchOnce(gridFetch('ct', s.ctGrid, `${c} / 2`));
        const odd = `(${c} - (${c} / 2) * 2 == 1)`;
        g.push(`(${odd} ? ${t}.y : ${t}.x)`); b.push(`(${odd} ? ${t}.w : ${t}.z)`);
      }
    }
    lines.push(`vec4 g = vec4(${g.join(', ')});`, `vec4 bt = vec4(${b.join(', ')});`);
  }
  if (s.stGrid && s.slotTexels) {
    const cpg = v.C / s.sv.groups;
    const slotOf = (k: CompNC) => {
      // Both columns of a channel pair fall in one slot when groups hold an even number of channels.
      const c = k.pairC !== undefined && cpg % 2 === 0 ? k.pairC : k.c;
      return `min(${slotExpr(v, s.sv, k.n, c)}, ${(s.sv.perSample ? v.N : 1) * s.sv.groups - 1})`;
    };
    for (const {kind, fields} of s.slotTexels) {
      const vars = s.comps.map((k) => (k === null ? null
        : fetchOnce(gridFetch('st', s.stGrid!, `${slotOf(k)} * ${SLOT_TEXELS} + ${kind}`))));
      for (const [field, comp] of Object.entries(fields)) {
        lines.push(`vec4 ${field} = vec4(${vars.map((n) => (n === null ? '0.0' : `${n}.${comp}`)).join(', ')});`);
      }
    }
  }
  return lines.join('\n  ');
}
