/**
 * The fused activations in GLSL, on vec4s (four elements of a packed texel), as in
 * src/activation.ts (the spec) and docs/kernels.md: `act`, `act'` (subgradient 0 / alpha at z = 0, as PyTorch), and for the
 * backward pass from the output (In-Place ABN) `act⁻¹(y)` and `act'` read from `y`.
 */
import {ELU_INVERSE_MIN} from '../../src/activation.js';
import type {NormActivation} from '../../src/kernel_names.js';
import {glslFloat} from './backend_util.js';

export function activationGlsl(activation: NormActivation, alpha: number): string {
  const a = glslFloat(alpha);
  const pos = 'greaterThan(z, vec4(0.0))';
  const posY = 'greaterThan(y, vec4(0.0))';
  switch (activation) {
    case 'relu':
      return `
vec4 act_(vec4 z) { return max(z, vec4(0.0)); }
vec4 actGrad_(vec4 z) { return mix(vec4(0.0), vec4(1.0), ${pos}); }
vec4 actInv_(vec4 y) { return y; }
vec4 actGradY_(vec4 y) { return mix(vec4(0.0), vec4(1.0), ${posY}); }`;
    case 'leakyRelu':
      return `
vec4 act_(vec4 z) { return mix(${a} * z, z, ${pos}); }
vec4 actGrad_(vec4 z) { return mix(vec4(${a}), vec4(1.0), ${pos}); }
vec4 actInv_(vec4 y) { return mix(y / ${a}, y, ${posY}); }
vec4 actGradY_(vec4 y) { return mix(vec4(${a}), vec4(1.0), ${posY}); }`;
    case 'elu':
      return `
vec4 act_(vec4 z) { return mix(${a} * (exp(min(z, vec4(0.0))) - 1.0), z, ${pos}); }
vec4 actGrad_(vec4 z) { return mix(${a} * exp(min(z, vec4(0.0))), vec4(1.0), ${pos}); }
vec4 actInv_(vec4 y) { return mix(log(1.0 + max(y / ${a}, vec4(${glslFloat(ELU_INVERSE_MIN)}))), y, ${posY}); }
vec4 actGradY_(vec4 y) { return mix(y + ${a}, vec4(1.0), ${posY}); }`;
    default:
      return `
vec4 act_(vec4 z) { return z; }
vec4 actGrad_(vec4 z) { return vec4(1.0); }
vec4 actInv_(vec4 y) { return y; }
vec4 actGradY_(vec4 y) { return vec4(1.0); }`;
  }
}
