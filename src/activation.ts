/**
 * The activation spec: the one definition of the fused activations that every backend's kernels
 * implement (cpu/wasm loops, GLSL, TensorFlow ops, the composite of tfjs ops) and that the shared
 * vector table (test/support/activation_vectors.ts) checks them against. Scalar float64
 * reference functions; backends take their constants from here.
 *
 * - `act(z)`: linear `z`; relu `max(z, 0)`; leakyRelu `z > 0 ? z : alpha·z`;
 *   elu `z > 0 ? z : alpha·(exp(z) − 1)`.
 * - `act'(z)`: subgradient at `z = 0` is the left one, as PyTorch (relu 0, leakyRelu alpha, elu alpha).
 * - In-Place ABN's backward from the output `y = act(z)` (invertible activations only: linear,
 *   leakyRelu with alpha > 0, elu with alpha > 0): `act⁻¹(y)` and `act'` read from `y`
 *   (leakyRelu `y > 0 ? 1 : alpha`; elu `y > 0 ? 1 : y + alpha`).
 * - Safe range: elu's inverse `log1p(y / alpha)` is read with `y / alpha` clamped below at
 *   `ELU_INVERSE_MIN` (float32-exact, `log1p` of it ≈ −15.94), so a saturated output (`y = −alpha`
 *   in float32) or a value just past it gives a large finite `z`, never −Infinity or NaN.
 */
import type {NormActivation} from './kernel_names.js';

/** Lower clamp of `y / alpha` in elu's inverse: `−1 + 2⁻²³`, exact in float32 (and in GLSL). */
export const ELU_INVERSE_MIN = -1 + 2 ** -23;

/** The activations `act⁻¹` is defined for (In-Place ABN). */
export const INVERTIBLE_ACTIVATIONS: readonly NormActivation[] = ['leakyRelu', 'elu', 'linear'];

export function activate(z: number, act: NormActivation, alpha: number): number {
  if (act === 'linear' || z > 0) return z;
  if (act === 'relu') return 0;
  if (act === 'leakyRelu') return alpha * z;
  return alpha * (Math.exp(z) - 1);
}

/** `d act(z) / dz` (left subgradient at 0). */
export function activateGrad(z: number, act: NormActivation, alpha: number): number {
  if (act === 'linear' || z > 0) return 1;
  if (act === 'relu') return 0;
  if (act === 'leakyRelu') return alpha;
  return alpha * Math.exp(z);
}

/** `act⁻¹(y)`; relu is not invertible. */
export function invertActivation(y: number, act: NormActivation, alpha: number): number {
  if (act === 'relu') throw new Error('tfjs-norms: relu is not invertible');
  if (act === 'linear' || y > 0) return y;
  if (act === 'leakyRelu') return y / alpha;
  return Math.log1p(Math.max(y / alpha, ELU_INVERSE_MIN));
}

/** `act'(z)` read from `y = act(z)`; relu is not invertible. */
export function activateGradFromOutput(y: number, act: NormActivation, alpha: number): number {
  if (act === 'relu') throw new Error('tfjs-norms: relu is not invertible');
  if (act === 'linear' || y > 0) return 1;
  if (act === 'leakyRelu') return alpha;
  return y + alpha;
}
