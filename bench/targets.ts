/** The speed targets of each section, as ratios measured in one run. */
import type {Mode} from './workloads.js';

export interface Target {
  /** Matches the row's op label. */
  op: RegExp;
  mode: Mode;
  /** 'speedup': baseline / ours >= value; 'yardstick': ours / (add × traffic / 2) <= value. */
  kind: 'speedup' | 'yardstick';
  value: number;
}

export const TARGETS: Record<string, Target[]> = {
  cpu: [
    {op: /^BatchNorm training/, mode: 'forward', kind: 'speedup', value: 10},
    {op: /^LayerNorm/, mode: 'forward+backward', kind: 'speedup', value: 20},
    {op: /^(GroupNorm|InstanceNorm)/, mode: 'forward+backward', kind: 'speedup', value: 10},
    {op: /./, mode: 'forward', kind: 'yardstick', value: 4},
  ],
  webgl: [
    {op: /^BatchNorm training/, mode: 'forward', kind: 'speedup', value: 3},
    {op: /^BatchNorm training/, mode: 'forward+backward', kind: 'speedup', value: 3},
    {op: /^LayerNorm/, mode: 'forward', kind: 'speedup', value: 4},
    {op: /^LayerNorm/, mode: 'forward+backward', kind: 'speedup', value: 10},
    {op: /^(GroupNorm|InstanceNorm)/, mode: 'forward+backward', kind: 'speedup', value: 3},
    {op: /./, mode: 'forward', kind: 'yardstick', value: 2.5},
    {op: /./, mode: 'forward+backward', kind: 'yardstick', value: 3},
  ],
  wasm: [
    {op: /^(BatchNorm training NHWC|LayerNorm|GroupNorm|InstanceNorm)/, mode: 'forward+backward', kind: 'speedup', value: 5},
    {op: /./, mode: 'forward', kind: 'yardstick', value: 4},
  ],
  tensorflow: [
    {op: /^BatchNorm training/, mode: 'forward+backward', kind: 'speedup', value: 3},
    {op: /^LayerNorm/, mode: 'forward+backward', kind: 'speedup', value: 5},
    {op: /^(GroupNorm|InstanceNorm)/, mode: 'forward+backward', kind: 'speedup', value: 3},
    {op: /./, mode: 'forward', kind: 'yardstick', value: 3},
  ],
};
