/**
 * Where the tensorflow forward's time goes, for the norms that take the reduction path
 * (`Sum` + `EuclideanNorm`, then `Mul` + `AddV2`): each forward workload's op next to the same four
 * TensorFlow ops run alone on raw handles (reading the sums, creating the coefficient tensors, as
 * the kernel does) and the `x.add(1)` yardstick. Every call is timed right after a call of the
 * workload's baseline, as our op runs in the main table's rounds (the baseline evicts the caches).
 * The difference between our op and its TensorFlow ops is the per-call cost of the JavaScript
 * around them (the op's checks, tfjs' engine, the kernel's host work, the five outputs).
 */
import type * as tfType from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import {Eager, nodeBackend} from '../../kernels/tensorflow/tf_exec.js';
import type {TimeOptions} from '../interleave.js';
import {workloads, yardstick} from '../workloads.js';

type TF = typeof tfType;
type T = tfType.Tensor;

/** The reduction axes and coefficient shape the kernel uses for a workload's 4-D view. */
function view(op: string, shape: number[]): {axes: number[]; coef: number[]} {
  const [N, a, , c] = shape;
  if (op.endsWith('NCHW')) return {axes: [2, 3], coef: op.startsWith('BatchNorm') ? [1, a, 1, 1] : [N, a, 1, 1]};
  return {axes: [1, 2], coef: [N, 1, 1, c]};
}

/** The four TensorFlow ops of the forward, on raw handles, as one tfjs tensor output. */
function tfOpsAlone(tf: TF, x: T, axes: number[], coef: number[]): () => T {
  const size = coef.reduce((p, d) => p * d, 1);
  return () => {
    const e = new Eager(nodeBackend(tf.backend()));
    try {
      const xh = e.input(x);
      const s1 = e.reduce('Sum', xh, axes);
      const s2 = e.reduce('EuclideanNorm', xh, axes);
      e.read(s1);
      e.read(s2);
      const t = e.mul(xh, e.f32(new Float32Array(size).fill(1), coef));
      const y = e.add(t, e.f32(new Float32Array(size), coef));
      return tf.engine().makeTensorFromTensorInfo(e.output(y)) as T;
    } finally {
      e.dispose();
    }
  };
}

export function forwardCostTable(tf: TF, opts: TimeOptions, log: (s: string) => void): string {
  const lines = [
    '### Where the forward\'s time goes (tensorflow backend)', '',
    'Each call timed right after a call of the baseline; ratios are to `x.add(1)` scaled to the ' +
    'forward\'s traffic (1.5 adds). "TensorFlow ops alone" are the kernel\'s `Sum`, `EuclideanNorm`, ' +
    '`Mul` and `AddV2` on raw handles; "per-call cost" is our op minus them.', '',
    '| op | shape | x.add(1) ms | TensorFlow ops alone ms | ratio | our op ms | ratio | per-call cost ms |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  ];
  const rounds = Math.max(opts.minRuns ?? 5, Math.round((opts.minMs ?? 1500) / 15));
  const tfAll = tf as never as Parameters<typeof workloads>[0];
  for (const w of workloads(tfAll, norms)) {
    const reductionPath = w.mode === 'forward' && /^(BatchNorm training NCHW|GroupNorm|InstanceNorm)/.test(w.op);
    if (!reductionPath || w.baseline === null) {
      w.dispose();
      continue;
    }
    const {axes, coef} = view(w.op, w.shape);
    const x = tf.add(tf.randomNormal(w.shape, 0, 1, 'float32', 6), 0) as T;
    const add = yardstick(tfAll, w.shape);
    const fns: Record<string, () => T | T[]> = {add: add.run, alone: tfOpsAlone(tf, x, axes, coef), ours: w.ours};
    const times: Record<string, number[]> = {add: [], alone: [], ours: []};
    for (let r = 0; r < rounds + 3; r++) {
      for (const [name, f] of Object.entries(fns)) {
        tf.dispose(w.baseline());
        const t0 = performance.now();
        const out = f();
        const dt = performance.now() - t0;
        tf.dispose(out);
        if (r >= 3) times[name].push(dt);
      }
    }
    const med = (a: number[]) => a.sort((p, q) => p - q)[a.length >> 1];
    const [a, alone, ours] = [med(times.add), med(times.alone), med(times.ours)];
    const ratio = (ms: number) => (ms / (a * 1.5)).toFixed(2);
    lines.push(`| ${w.op} | [${w.shape}] | ${a.toFixed(3)} | ${alone.toFixed(3)} | ${ratio(alone)} | ` +
      `${ours.toFixed(3)} | ${ratio(ours)} | ${(ours - alone).toFixed(3)} |`);
    log(`tensorflow  cost ${w.op.padEnd(28)} add ${a.toFixed(3)} ms  TF ops alone ${alone.toFixed(3)} ms ` +
      `(${ratio(alone)})  ours ${ours.toFixed(3)} ms (${ratio(ours)})`);
    tf.dispose(x);
    add.dispose();
    w.dispose();
  }
  return lines.join('\n');
}
