/**
 * The one table of activation test vectors (spec: src/activation.ts) and a harness that runs it
 * through the active backend's kernels: every backend's implementation is checked against it
 * (test/kernels/activation_vectors.test.ts on cpu, wasm and the composite paths;
 * test/tensorflow/activation_vectors.test.ts; test/webgl/activation_vectors.test.ts and
 * test/webgpu/activation_vectors.test.ts in Chromium).
 * Each row holds one value per channel of a `[1, K]` input (NSC view, one element per channel)
 * normalized with mean 0, variance 1, epsilon 0, gamma 1, beta 0, so the kernels compute the
 * activation alone:
 * - `act(z)`: `NormsApply` of `z`;
 * - `act'(z)`: `NormsBackwardApply` (inference) of `z` with `dy = 1`;
 * - `act'` from `y`: the same given `y` (In-Place ABN's backward from the output);
 * - `act⁻¹(y)`: `NormsBackwardApply` (training, count 1) given `y`, `dy = 0`,
 *   `slotSumDzGammaXhat = −1`: `dx = x̂ = act⁻¹(y)`.
 */
import type * as tfType from '@tensorflow/tfjs-core';
import {
  activate, activateGrad, activateGradFromOutput, ELU_INVERSE_MIN, invertActivation,
} from '../../src/activation.js';
import {NormsApply, NormsBackwardApply, type NormActivation, type NormApplyAttrs} from '../../src/kernel_names.js';

export interface ActivationRow {
  activation: NormActivation;
  alpha: number;
  /** Pre-activation inputs (forward and derivative). */
  z: number[];
  /** Outputs (inverse and derivative from the output); empty when not invertible. */
  y: number[];
}

const Z = [-20, -3, -1, -0.25, -1e-3, 0, 1e-3, 0.75, 4];

/** elu's outputs: saturated (`−alpha`), past it (the safe range), and the usual values. */
const eluY = (a: number) => [-1.5 * a, -a, -0.99 * a, -0.5 * a, -1e-3, 0, 0.5, 3];

export const ACTIVATION_VECTORS: readonly ActivationRow[] = [
  {activation: 'linear', alpha: 0, z: Z, y: [-2, 0, 1.5]},
  {activation: 'relu', alpha: 0, z: Z, y: []},
  {activation: 'leakyRelu', alpha: 0.01, z: Z, y: [-2, -0.01, -1e-4, 0, 0.5, 3]},
  {activation: 'leakyRelu', alpha: 0.3, z: Z, y: [-2, -0.3, 0, 0.5, 3]},
  // A negative slope is a valid activation but not invertible (y > 0 from both signs of z).
  {activation: 'leakyRelu', alpha: -0.5, z: Z, y: []},
  {activation: 'elu', alpha: 1, z: Z, y: eluY(1)},
  {activation: 'elu', alpha: 0.5, z: Z, y: eluY(0.5)},
  {activation: 'elu', alpha: 2, z: Z, y: eluY(2)},
];

/** Hand-computed anchors of the spec itself (checked in test/activation_spec.test.ts). */
export const SPEC_ANCHORS = {
  eluAtMinus1: Math.E ** -1 - 1,
  eluInverseSaturated: -23 * Math.LN2, // log1p(ELU_INVERSE_MIN) = log(2⁻²³)
  eluInverseMin: ELU_INVERSE_MIN,
};

/** Float32 kernels against float64 references: `|got − want| ≤ ABS + REL·|want|`. */
export const ABS_TOL = 2e-5;
export const REL_TOL = 2e-4;

export interface VectorResult {
  what: string;
  input: number[];
  got: number[];
  want: number[];
}

function attrs(row: ActivationRow, K: number): NormApplyAttrs {
  return {layout: 'NSC', batchAxes: 1, channelAxes: 1, groups: K, perSample: false, epsilon: 0,
    activation: row.activation, alpha: row.alpha};
}

/** One checked quantity as a tensor (still to read) with its spec values. */
interface PendingResult extends Omit<VectorResult, 'got'> {
  t: tfType.Tensor;
}

/** The kernel calls of one row (`run`: the package's runKernel); the caller reads and disposes `t`. */
function activationCalls(
    tf: typeof tfType, run: (name: string, inputs: tfType.NamedTensorMap, attrs: object) => unknown,
    row: ActivationRow): PendingResult[] {
  const {activation: act, alpha} = row;
  const out: PendingResult[] = [];
  const stats = (K: number) => ({mean: tf.zeros([K]), variance: tf.ones([K]), gamma: tf.ones([K]), beta: tf.zeros([K])});
  const kept = (t: unknown) => tf.keep(t as tfType.Tensor);
  tf.tidy(() => {
    const K = row.z.length;
    const z = tf.tensor2d([row.z]);
    const s = stats(K);
    out.push({what: 'act(z)', input: row.z, t: kept(run(NormsApply, {x: z, ...s}, attrs(row, K))),
      want: row.z.map((v) => activate(v, act, alpha))});
    const back = {...attrs(row, K), training: false, count: 0};
    out.push({what: "act'(z)", input: row.z,
      t: kept(run(NormsBackwardApply, {x: z, dy: tf.onesLike(z), ...s}, back)),
      want: row.z.map((v) => activateGrad(v, act, alpha))});
    if (row.y.length === 0) return;
    const J = row.y.length;
    const y = tf.tensor2d([row.y]);
    const sy = stats(J);
    out.push({what: "act'(y)", input: row.y,
      t: kept(run(NormsBackwardApply, {y, dy: tf.onesLike(y), ...sy}, {...attrs(row, J), training: false, count: 0})),
      want: row.y.map((v) => activateGradFromOutput(v, act, alpha))});
    out.push({what: 'act⁻¹(y)', input: row.y,
      t: kept(run(NormsBackwardApply, {
        y, dy: tf.zerosLike(y), ...sy, slotSumDzGamma: tf.zeros([J]), slotSumDzGammaXhat: tf.fill([J], -1),
      }, {...attrs(row, J), training: true, count: 1})),
      want: row.y.map((v) => invertActivation(v, act, alpha))});
  });
  return out;
}

/**
 * Runs one row through the active backend's kernels (`run`: the package's runKernel) and returns
 * each checked quantity with its spec value. Disposes what it creates.
 */
export function runActivationRow(
    tf: typeof tfType, run: (name: string, inputs: tfType.NamedTensorMap, attrs: object) => unknown,
    row: ActivationRow): VectorResult[] {
  const calls = activationCalls(tf, run, row);
  try {
    return calls.map(({t, ...r}) => ({...r, got: Array.from(t.dataSync())}));
  } finally {
    tf.dispose(calls.map((c) => c.t));
  }
}

/** `runActivationRow` reading asynchronously (webgpu has no synchronous read-back). */
export async function runActivationRowAsync(
    tf: typeof tfType, run: (name: string, inputs: tfType.NamedTensorMap, attrs: object) => unknown,
    row: ActivationRow): Promise<VectorResult[]> {
  const calls = activationCalls(tf, run, row);
  try {
    return await Promise.all(calls.map(async ({t, ...r}) => ({...r, got: Array.from(await t.data())})));
  } finally {
    tf.dispose(calls.map((c) => c.t));
  }
}

/** The entries of `r` outside the tolerance, as readable lines (empty: all agree). */
export function mismatches(r: VectorResult): string[] {
  const bad: string[] = [];
  r.want.forEach((w, i) => {
    const g = r.got[i];
    if (!(Math.abs(g - w) <= ABS_TOL + REL_TOL * Math.abs(w))) bad.push(`${r.what} at ${r.input[i]}: got ${g}, spec ${w}`);
  });
  return bad;
}
