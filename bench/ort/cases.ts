/**
 * The forward passes compared with ONNX Runtime: the ONNX model, the shared input data and our
 * op on the active tfjs backend, per norm.
 */
import type * as tfType from '@tensorflow/tfjs';
import type * as normsType from '../../src/index.js';
import {opsRun} from '../../test/tensorflow/support/ops_log.js';
import {SHAPES} from '../workloads.js';

type TF = typeof tfType;
type T = tfType.Tensor;

export const EPSILON = 1e-5;

export interface OrtCase {
  norm: string;
  /** Model file (without .onnx) under the models' folder. */
  model: string;
  shape: number[];
  /** Every graph input, by name. */
  data: Record<string, {data: Float32Array; shape: number[]}>;
  tensors: (tf: TF) => Record<string, T>;
  /** Our forward on the active backend, or null when this branch has no such op. */
  ours: (tf: TF, ins: Record<string, T>) => (() => T) | null;
  missing?: string;
}

/** Deterministic normal samples (mulberry32 + Box–Muller). */
function normal(n: number, seed: number, mean = 0, std = 1): Float32Array {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + std * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

const size = (s: number[]) => s.reduce((p, d) => p * d, 1);

function inputs(shape: number[], params: Record<string, number>): OrtCase['data'] {
  const C = shape.length === 3 ? shape[2] : shape[1];
  const data: OrtCase['data'] = {x: {data: normal(size(shape), 1), shape}};
  let seed = 2;
  for (const [name, kind] of Object.entries(params)) {
    const v = kind === 1 ? normal(C, seed++, 1, 0.1)
      : kind === 2 ? normal(C, seed++, 1, 0.25).map(Math.abs) : normal(C, seed++, 0, 0.1);
    data[name] = {data: v, shape: [C]};
  }
  return data;
}

/** gamma, variance ≈ 1 (kinds 1, 2); beta, mean ≈ 0 (kind 0). */
const AFFINE = {gamma: 1, beta: 0};

export function forwardCases(norms: typeof normsType): OrtCase[] {
  const {layerNorm: ln, nchw} = SHAPES;
  const make = (norm: string, model: string, shape: number[], params: Record<string, number>,
                run: ((ins: Record<string, T>) => T) | null, missing?: string): OrtCase => {
    const data = inputs(shape, params);
    return {
      norm, model, shape, data, missing,
      tensors: (tf) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, tf.tensor(v.data, v.shape)])),
      ours: (_tf, ins) => (run === null ? null : () => run(ins)),
    };
  };
  return [
    make('LayerNorm', 'layer_norm', ln, AFFINE, (i) => norms.layerNorm(i.x, {gamma: i.gamma, beta: i.beta, epsilon: EPSILON})),
    make('InstanceNorm NCHW', 'instance_norm', nchw, AFFINE,
      (i) => norms.instanceNorm(i.x, {gamma: i.gamma, beta: i.beta, epsilon: EPSILON, dataFormat: 'NCHW'})),
    make('GroupNorm (32 groups) NCHW', 'group_norm', nchw, AFFINE,
      (i) => norms.groupNorm(i.x, {groups: 32, gamma: i.gamma, beta: i.beta, epsilon: EPSILON, dataFormat: 'NCHW'})),
    make('BatchNorm inference NCHW', 'batch_norm', nchw, {...AFFINE, mean: 0, variance: 2}, (i) => {
      const r = norms.batchNorm(i.x, {training: false, gamma: i.gamma, beta: i.beta, mean: i.mean as tfType.Tensor1D,
        variance: i.variance as tfType.Tensor1D,
        epsilon: EPSILON, dataFormat: 'NCHW'});
      // Inference hands back the caller's own mean/variance (API.md): nothing else to dispose.
      return r.y;
    }),
    make('RMSNorm', 'rms_norm', ln, {gamma: 1}, (i) => norms.rmsNorm(i.x, {gamma: i.gamma, epsilon: EPSILON})),
  ];
}

/** The TensorFlow ops one call of `f` runs on the tensorflow backend, e.g. "2: Mul, AddV2". */
export function countTfOps(tf: TF, f: () => T): string {
  const {ops} = opsRun(() => tf.dispose(f()));
  return `${ops.length}: ${ops.join(', ')}`;
}
