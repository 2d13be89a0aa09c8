/** The fused activations, their gradients and their inverses (In-Place ABN), as TensorFlow ops (spec: src/activation.ts). */
import {ELU_INVERSE_MIN} from '../../src/activation.js';
import type {NormActivation} from '../../src/kernel_names.js';
import type {Eager, H} from './tf_exec.js';

export function activate(e: Eager, z: H, act: NormActivation, alpha: number): H {
  let y: H;
  switch (act) {
    case 'relu': y = e.relu(z); break;
    case 'leakyRelu': y = e.leakyRelu(z, alpha); break;
    case 'elu': {
      // alpha·(exp(z) − 1) for z ≤ 0 is LeakyRelu(Elu(z), alpha).
      const t = e.elu(z);
      y = alpha === 1 ? t : e.leakyRelu(t, alpha);
      if (y !== t) e.free(t);
      break;
    }
    default: return z;
  }
  e.free(z);
  return y;
}

/** `dy · act'(z)`. */
export function activationGrad(e: Eager, dy: H, z: H, act: NormActivation, alpha: number): H {
  switch (act) {
    case 'relu': return e.reluGrad(dy, z);
    case 'leakyRelu': return e.leakyReluGrad(dy, z, alpha);
    case 'elu': {
      // EluGrad gives dy·exp(z) for z < 0; LeakyReluGrad then scales z ≤ 0 by alpha.
      return eluGradScaled(e, dy, e.elu(z), z, alpha);
    }
    default: return dy;
  }
}

/** `z = act⁻¹(y)` (In-Place ABN). */
export function invertActivation(e: Eager, y: H, act: NormActivation, alpha: number): H {
  switch (act) {
    case 'leakyRelu': return e.leakyRelu(y, 1 / alpha);
    case 'elu': {
      // y > 0 ? y : log1p(y / alpha)  =  relu(y) + log1p(clamp(y / alpha, ELU_INVERSE_MIN, 0))
      const t = e.mul(y, e.f32([1 / alpha], []));
      const m = e.minimum(t, e.f32([0], []));
      const c = e.maximum(m, e.f32([ELU_INVERSE_MIN], []));
      const l = e.log1p(c);
      const r = e.relu(y);
      const z = e.add(r, l);
      e.free(t, m, c, l, r);
      return z;
    }
    case 'relu': throw new Error('tfjs-norms: relu is not invertible; the backward from the output needs ' +
      'leakyRelu, elu or linear');
    default: return y;
  }
}

/**
 * `EluGrad(dy, t)` (freeing `t`), then scaled by `alpha` where `sign ≤ 0` with `LeakyReluGrad`:
 * `t` is `elu(z)` (or `y / alpha`), `sign` is `z` (or `y`), which share their sign.
 */
function eluGradScaled(e: Eager, dy: H, t: H, sign: H, alpha: number): H {
  const g = e.eluGrad(dy, t);
  e.free(t);
  if (alpha === 1) return g;
  const r = e.leakyReluGrad(g, sign, alpha);
  e.free(g);
  return r;
}

/** `dy · act'(z)` read from `y = act(z)`. */
export function activationGradFromOutput(e: Eager, dy: H, y: H, act: NormActivation, alpha: number): H {
  switch (act) {
    case 'leakyRelu': return e.leakyReluGrad(dy, y, alpha);
    case 'elu': {
      // y ≤ 0: dy·(y + alpha) = alpha · EluGrad(dy, y/alpha).
      return eluGradScaled(e, dy, e.mul(y, e.f32([1 / alpha], [])), y, alpha);
    }
    case 'relu': throw new Error('tfjs-norms: relu is not invertible; the backward from the output needs ' +
      'leakyRelu, elu or linear');
    default: return dy;
  }
}
