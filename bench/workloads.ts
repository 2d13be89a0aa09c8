/**
 * The benchmark workloads, shared by every backend section: each op of ours, forward and
 * forward+backward, next to what a tfjs user has today and the `x.add(1)` yardstick.
 */
import type * as tfType from '@tensorflow/tfjs';
import type * as normsType from '../src/index.js';

type TF = typeof tfType;
type Norms = typeof normsType;
type T = tfType.Tensor;

export type Mode = 'forward' | 'forward+backward';

export interface Workload {
  /** Row label, e.g. "BatchNorm training NCHW". */
  op: string;
  shape: number[];
  mode: Mode;
  /** Ideal memory traffic in units of the tensor's size (x.add(1) is 2: read + write). */
  traffic: number;
  ours: () => T | T[];
  baselineName: string;
  /** Null when the baseline cannot run this case; `baselineError` says why. */
  baseline: (() => T | T[]) | null;
  baselineError?: string;
  /** Cleans up the workload's tensors and variables. */
  dispose: () => void;
}

export const SHAPES = {
  nchw: [8, 64, 32, 32],
  nhwc: [8, 32, 32, 64],
  layerNorm: [16, 128, 768],
  rmsNorm: [[16, 128, 768], [4, 1024, 4096]],
};

/** Traffic: forward reads x twice (statistics, apply) and writes y; backward reads dy and x
 * twice (reduce, apply) and writes dx. */
const TRAFFIC: Record<Mode, number> = {'forward': 3, 'forward+backward': 8};

/**
 * Forward, then the gradients with respect to x and the parameters for the upstream gradient
 * `dy`, as the layer's share of a training step (no loss ops around it).
 */
function withGrads(tf: TF, f: () => T, vars: tfType.Variable[], dy: T): () => T[] {
  return () => {
    const {value, grads} = tf.engine().gradients(f, vars, dy);
    return [value, ...grads];
  };
}

function groupNormComposite(tf: TF, x: T, groups: number, gamma: T, beta: T, nchw: boolean): T {
  return tf.tidy(() => {
    const [N, ...rest] = x.shape;
    const C = nchw ? rest[0] : rest[rest.length - 1];
    const S = x.size / N / C;
    const xr = nchw ? tf.reshape(x, [N, groups, (C / groups) * S]) : tf.reshape(x, [N, S, groups, C / groups]);
    const {mean, variance} = tf.moments(xr, nchw ? [2] : [1, 3], true);
    const xn = tf.reshape(tf.div(tf.sub(xr, mean), tf.sqrt(tf.add(variance, 1e-5))), x.shape);
    const pshape = nchw ? [1, C, ...rest.slice(1).map(() => 1)] : [C];
    return tf.add(tf.mul(xn, tf.reshape(gamma, pshape)), tf.reshape(beta, pshape));
  });
}

function instanceNormComposite(tf: TF, x: T, gamma: T, beta: T, nchw: boolean): T {
  return tf.tidy(() => {
    const axes = nchw ? [2, 3] : [1, 2];
    const {mean, variance} = tf.moments(x, axes, true);
    const xn = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5)));
    const pshape: number[] = nchw ? [1, x.shape[1]!, 1, 1] : [x.shape[3]!];
    return tf.add(tf.mul(xn, tf.reshape(gamma, pshape)), tf.reshape(beta, pshape));
  });
}

interface Setup {
  x: tfType.Variable;
  gamma: tfType.Variable;
  beta: tfType.Variable;
  dy: T;
}

/**
 * A big input as a previous layer would hand it over: the output of an elementwise tfjs op. On
 * webgl that is a packed texture (tfjs's default), for every contender alike; otherwise the first
 * one to touch a fresh tensor would choose its texture layout for the others (an unpacked
 * upload by a reduction, say, which every packed program then repacks on each call).
 */
function produced(tf: TF, t: T): T {
  const out = tf.add(t, 0);
  t.dispose();
  return out;
}

function variableOf(tf: TF, t: T): tfType.Variable {
  const v = tf.variable(t);
  t.dispose();
  return v;
}

function setup(tf: TF, shape: number[], C: number, paramShape: number[] = [C]): Setup {
  return {
    x: variableOf(tf, produced(tf, tf.randomNormal(shape, 0, 1, 'float32', 1))),
    gamma: tf.variable(tf.randomNormal(paramShape, 1, 0.1, 'float32', 2)),
    beta: tf.variable(tf.randomNormal(paramShape, 0, 0.1, 'float32', 3)),
    dy: produced(tf, tf.randomNormal(shape, 0, 1, 'float32', 4)),
  };
}

/** Builds a tf.layers layer on `shape` and returns it with its trainable variables. */
function builtLayer(tf: TF, layer: tfType.layers.Layer, x: T): tfType.Variable[] {
  tf.tidy(() => { layer.apply(x, {training: true}); });
  return layer.trainableWeights.map((w) => (w as unknown as {read(): tfType.Variable}).read());
}

/** Runs `f` once to see whether the baseline works on this case. */
function probe(tf: TF, f: () => T | T[]): string | undefined {
  try {
    tf.dispose(f());
    return undefined;
  } catch (e) {
    return (e as Error).message.split('\n')[0];
  }
}

export function workloads(tf: TF, norms: Norms): Workload[] {
  const out: Workload[] = [];
  const push = (w: Omit<Workload, 'traffic' | 'baselineError'>) => {
    const baselineError = w.baseline ? probe(tf, w.baseline) : 'not available';
    out.push({...w, traffic: TRAFFIC[w.mode], baseline: baselineError ? null : w.baseline, baselineError});
  };

  for (const fmt of ['NCHW', 'NHWC'] as const) {
    const shape = fmt === 'NCHW' ? SHAPES.nchw : SHAPES.nhwc;
    const C = fmt === 'NCHW' ? shape[1] : shape[3];
    const nchw = fmt === 'NCHW';

    // BatchNorm (training) vs tf.layers.batchNormalization.
    {
      const s = setup(tf, shape, C);
      const layer = tf.layers.batchNormalization({axis: nchw ? 1 : -1, epsilon: 1e-5});
      const lvars = builtLayer(tf, layer, s.x);
      const ours = () => norms.batchNorm(s.x, {training: true, gamma: s.gamma, beta: s.beta, dataFormat: fmt}).y;
      const theirs = () => layer.apply(s.x, {training: true}) as T;
      const dispose = () => { tf.dispose([s.x, s.gamma, s.beta, s.dy]); layer.dispose(); };
      const op = `BatchNorm training ${fmt}`;
      push({op, shape, mode: 'forward', ours: () => tf.tidy(() => { const r = norms.batchNorm(s.x, {training: true, gamma: s.gamma, beta: s.beta, dataFormat: fmt}); tf.dispose([r.mean, r.variance]); return r.y; }),
        baselineName: 'tf.layers.batchNormalization', baseline: () => tf.tidy(theirs), dispose: () => {}});
      push({op, shape, mode: 'forward+backward', ours: withGrads(tf, ours, [s.x, s.gamma, s.beta], s.dy),
        baselineName: 'tf.layers.batchNormalization', baseline: withGrads(tf, theirs, [s.x, ...lvars], s.dy), dispose});
    }

    // GroupNorm (32 groups) and InstanceNorm vs tf.moments composites.
    for (const kind of ['GroupNorm', 'InstanceNorm'] as const) {
      const s = setup(tf, shape, C);
      const ours = kind === 'GroupNorm'
        ? () => norms.groupNorm(s.x, {groups: 32, gamma: s.gamma, beta: s.beta, dataFormat: fmt})
        : () => norms.instanceNorm(s.x, {gamma: s.gamma, beta: s.beta, dataFormat: fmt});
      const theirs = kind === 'GroupNorm'
        ? () => groupNormComposite(tf, s.x, 32, s.gamma, s.beta, nchw)
        : () => instanceNormComposite(tf, s.x, s.gamma, s.beta, nchw);
      const op = `${kind}${kind === 'GroupNorm' ? ' (32 groups)' : ''} ${fmt}`;
      const name = 'tf.moments composite';
      push({op, shape, mode: 'forward', ours, baselineName: name, baseline: theirs, dispose: () => {}});
      push({op, shape, mode: 'forward+backward', ours: withGrads(tf, ours, [s.x, s.gamma, s.beta], s.dy),
        baselineName: name, baseline: withGrads(tf, theirs, [s.x, s.gamma, s.beta], s.dy),
        dispose: () => tf.dispose([s.x, s.gamma, s.beta, s.dy])});
    }
  }

  // LayerNorm vs tf.layers.layerNormalization.
  {
    const shape = SHAPES.layerNorm;
    const D = shape[2];
    const s = setup(tf, shape, D);
    const layer = tf.layers.layerNormalization({axis: -1, epsilon: 1e-5});
    const lvars = builtLayer(tf, layer, s.x);
    const ours = () => norms.layerNorm(s.x, {gamma: s.gamma, beta: s.beta});
    const theirs = () => layer.apply(s.x, {training: true}) as T;
    const name = 'tf.layers.layerNormalization';
    push({op: 'LayerNorm', shape, mode: 'forward', ours, baselineName: name, baseline: () => tf.tidy(theirs), dispose: () => {}});
    push({op: 'LayerNorm', shape, mode: 'forward+backward', ours: withGrads(tf, ours, [s.x, s.gamma, s.beta], s.dy),
      baselineName: name, baseline: withGrads(tf, theirs, [s.x, ...lvars], s.dy),
      dispose: () => { tf.dispose([s.x, s.gamma, s.beta, s.dy]); layer.dispose(); }});
  }

  // RMSNorm vs the formula as tf ops (what a tfjs user writes today).
  for (const shape of SHAPES.rmsNorm) {
    const D = shape[shape.length - 1];
    const s = setup(tf, shape, D);
    const eps = 1e-6;
    const ours = () => norms.rmsNorm(s.x, {gamma: s.gamma, epsilon: eps});
    const theirs = () => tf.tidy(() => s.x.div(s.x.square().mean(-1, true).add(eps).sqrt()).mul(s.gamma));
    const name = 'tf ops: x / sqrt(mean(x²) + ε) · γ';
    push({op: 'RMSNorm', shape, mode: 'forward', ours, baselineName: name, baseline: theirs, dispose: () => {}});
    push({op: 'RMSNorm', shape, mode: 'forward+backward', ours: withGrads(tf, ours, [s.x, s.gamma], s.dy),
      baselineName: name, baseline: withGrads(tf, theirs, [s.x, s.gamma], s.dy),
      dispose: () => tf.dispose([s.x, s.gamma, s.beta, s.dy])});
  }
  return out;
}

/**
 * A plain JavaScript loop `y[i] = x[i] + 1` over a new Float32Array: the cpu memory yardstick
 * (what any JavaScript kernel pays to read its input and write a fresh output; traffic 2).
 */
export function jsLoop(x: Float32Array): () => [] {
  return () => {
    const y = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) y[i] = x[i] + 1;
    if (y[0] !== Math.fround(x[0] + 1)) throw new Error('unreachable');
    return [];
  };
}

/** `x.add(1)` on a tensor of `shape`: the memory-speed yardstick (traffic 2). */
export function yardstick(tf: TF, shape: number[]): {run: () => T; dispose: () => void} {
  const x = produced(tf, tf.randomNormal(shape, 0, 1, 'float32', 5));
  return {run: () => tf.add(x, 1), dispose: () => x.dispose()};
}
