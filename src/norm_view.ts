/**
 * The `[N, C, S]` view shared by every kernel (see `NormViewAttrs` in kernel_names.ts).
 */
import type {NormViewAttrs} from './kernel_names.js';

export interface NormView {
  /** Product of the batch axes. */
  N: number;
  /** Product of the channel axes. */
  C: number;
  /** Product of the spatial axes (1 if there are none). */
  S: number;
  /** Channels are last in memory (`[N, S, C]`) rather than before the spatial block. */
  channelsLast: boolean;
  groups: number;
  /** Channels per group. */
  cpg: number;
  perSample: boolean;
  /** Number of statistics slots: `groups`, or `N * groups` when per sample. */
  slots: number;
  /** Elements reduced into each slot. */
  count: number;
}

function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}

export function normView(shape: readonly number[], attrs: NormViewAttrs): NormView {
  const {layout, batchAxes, channelAxes, groups, perSample} = attrs;
  const rank = shape.length;
  const N = product(shape.slice(0, batchAxes));
  const channelsLast = layout === 'NSC';
  const channelStart = channelsLast ? rank - channelAxes : batchAxes;
  const C = product(shape.slice(channelStart, channelStart + channelAxes));
  const S = product(shape.filter(
      (_, i) => i >= batchAxes && (i < channelStart || i >= channelStart + channelAxes)));
  const cpg = C / groups;
  const slots = perSample ? N * groups : groups;
  const count = (perSample ? 1 : N) * cpg * S;
  return {N, C, S, channelsLast, groups, cpg, perSample, slots, count};
}

/** RMSNorm's view of `x`: `[rows, D]` with `D` the product of the trailing `axisCount` axes. */
export function rmsView(shape: readonly number[], axisCount: number): {rows: number; D: number} {
  const split = shape.length - axisCount;
  return {rows: product(shape.slice(0, split)), D: product(shape.slice(split))};
}
