/**
 * The TensorFlow ops one call of our op runs on the tensorflow backend, each timed, next to
 * `x.add(1)` on the same shape: where the time of the rows that miss a target goes (docs/kernels.md
 * quotes this table as the evidence for what TensorFlow's ops cannot do in fewer passes).
 * Rounds alternate the yardstick and our op; per-op times are medians over the rounds.
 */
import type * as tfType from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import {opsTimed, type TimedOp} from '../../test/tensorflow/support/ops_log.js';
import type {TimeOptions} from '../interleave.js';
import {SHAPES, yardstick} from '../workloads.js';

type TF = typeof tfType;
type T = tfType.Tensor;

interface OpsCase {
  label: string;
  shape: number[];
  C: number;
  run: (x: tfType.Variable, gamma: tfType.Variable, beta: tfType.Variable, dy: T) => T | T[];
}

function cases(tf: TF): OpsCase[] {
  const {nchw, nhwc, layerNorm} = SHAPES;
  const grads = (f: () => T, vars: tfType.Variable[], dy: T) => {
    const {value, grads: g} = tf.engine().gradients(f, vars, dy);
    return [value, ...g];
  };
  return [
    {label: 'LayerNorm forward+backward', shape: layerNorm, C: layerNorm[2],
      run: (x, gamma, beta, dy) => grads(() => norms.layerNorm(x, {gamma, beta}), [x, gamma, beta], dy)},
    {label: 'RMSNorm forward', shape: layerNorm, C: layerNorm[2], run: (x, gamma) => norms.rmsNorm(x, {gamma})},
    {label: 'BatchNorm inference NCHW', shape: nchw, C: nchw[1],
      run: (x, gamma, beta) => norms.batchNorm(x, {training: false, gamma, beta, mean: beta as tfType.Tensor1D,
        variance: gamma as tfType.Tensor1D, dataFormat: 'NCHW'}).y},
    {label: 'InstanceNorm NCHW forward', shape: nchw, C: nchw[1],
      run: (x, gamma, beta) => norms.instanceNorm(x, {gamma, beta, dataFormat: 'NCHW'})},
    {label: 'InstanceNorm NHWC forward', shape: nhwc, C: nhwc[3], run: (x, gamma, beta) => norms.instanceNorm(x, {gamma, beta})},
    {label: 'GroupNorm (32 groups) NHWC forward', shape: nhwc, C: nhwc[3],
      run: (x, gamma, beta) => norms.groupNorm(x, {groups: 32, gamma, beta})},
  ];
}

const median = (a: number[]) => [...a].sort((p, q) => p - q)[a.length >> 1];

export function opsTimedTable(tf: TF, opts: TimeOptions, log: (s: string) => void): string {
  const lines = [
    '### TensorFlow ops per call, timed (tensorflow backend)', '',
    'Every TensorFlow op one call runs, in order, with its median wall time in ms (tiny `Reshape`s ' +
    'and ops on per-row or per-channel vectors included); "ops" is their sum, "call" the whole call ' +
    '(tfjs and our JavaScript around the ops included), both also as multiples of `x.add(1)` on the ' +
    'same shape, timed in the same rounds.', '',
    '| case | shape | TensorFlow ops (ms each) | ops ms | call ms | x.add(1) ms | call / add |',
    '|---|---|---|---:|---:|---:|---:|',
  ];
  const rounds = Math.max(opts.minRuns ?? 5, Math.round((opts.minMs ?? 1500) / 30));
  for (const c of cases(tf)) {
    const x = tf.variable(tf.randomNormal(c.shape, 0, 1, 'float32', 1));
    const gamma = tf.variable(tf.randomNormal([c.C], 1, 0.1, 'float32', 2));
    const beta = tf.variable(tf.randomNormal([c.C], 0, 0.1, 'float32', 3));
    const dy = tf.randomNormal(c.shape, 0, 1, 'float32', 4);
    const add = yardstick(tf, c.shape);
    let sequence: TimedOp[] = [];
    const perOp: number[][] = [];
    const calls: number[] = [];
    const adds: number[] = [];
    for (let r = 0; r < rounds + 2; r++) {
      let t0 = performance.now();
      tf.dispose(add.run());
      const addMs = performance.now() - t0;
      t0 = performance.now();
      const {result, ops} = opsTimed(() => c.run(x, gamma, beta, dy));
      tf.dispose(result);
      const callMs = performance.now() - t0;
      if (r < 2) continue;
      // The sequence is the same every call (same data, same paths); keep the first one's names.
      if (sequence.length === 0) sequence = ops;
      if (ops.length !== sequence.length) throw new Error(`${c.label}: ${ops.length} ops, then ${sequence.length}`);
      ops.forEach((o, i) => (perOp[i] ??= []).push(o.ms));
      calls.push(callMs);
      adds.push(addMs);
    }
    const opMs = perOp.map(median);
    const opsSum = opMs.reduce((a, b) => a + b, 0);
    const [call, a] = [median(calls), median(adds)];
    const list = sequence.map((o, i) => `${o.name} ${opMs[i].toFixed(3)}`).join(' · ');
    lines.push(`| ${c.label} | [${c.shape}] | ${sequence.length}: ${list} | ${opsSum.toFixed(2)} (${(opsSum / a).toFixed(1)}×) | ` +
      `${call.toFixed(2)} | ${a.toFixed(3)} | ${(call / a).toFixed(1)}× |`);
    log(`tensorflow  ops  ${c.label.padEnd(34)} ${sequence.length} ops ${opsSum.toFixed(2)} ms  call ${call.toFixed(2)} ms  ` +
        `add ${a.toFixed(3)} ms`);
    tf.dispose([x, gamma, beta, dy]);
    add.dispose();
  }
  return lines.join('\n');
}
