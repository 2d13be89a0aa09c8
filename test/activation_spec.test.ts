/** The activation spec itself: hand-computed values and its safe range. */
import {
  activate, activateGrad, activateGradFromOutput, ELU_INVERSE_MIN, invertActivation,
} from '../src/activation.js';
import {ACTIVATION_VECTORS, SPEC_ANCHORS} from './support/activation_vectors.js';

test('hand-computed values', () => {
  expect(activate(-1, 'elu', 1)).toBeCloseTo(SPEC_ANCHORS.eluAtMinus1, 12);
  expect(activate(-2, 'leakyRelu', 0.1)).toBeCloseTo(-0.2, 12);
  expect(activate(-2, 'relu', 0)).toBe(0);
  expect(activateGrad(0, 'relu', 0)).toBe(0);
  expect(activateGrad(0, 'leakyRelu', 0.1)).toBe(0.1);
  expect(activateGrad(0, 'elu', 0.5)).toBe(0.5);
  expect(activateGradFromOutput(-0.25, 'elu', 0.5)).toBe(0.25);
  expect(Math.fround(ELU_INVERSE_MIN)).toBe(SPEC_ANCHORS.eluInverseMin);
});

test('elu inverse is finite past saturation and inverts elsewhere', () => {
  expect(invertActivation(-1, 'elu', 1)).toBeCloseTo(SPEC_ANCHORS.eluInverseSaturated, 12);
  expect(invertActivation(-5, 'elu', 1)).toBeCloseTo(SPEC_ANCHORS.eluInverseSaturated, 12);
  for (const row of ACTIVATION_VECTORS) {
    if (row.activation === 'relu') expect(() => invertActivation(1, row.activation, row.alpha)).toThrow(/not invertible/);
    if (row.y.length === 0) continue;
    for (const z of row.z.filter((v) => v > -10)) {
      const y = activate(z, row.activation, row.alpha);
      expect(invertActivation(y, row.activation, row.alpha)).toBeCloseTo(z, 6);
      expect(activateGradFromOutput(y, row.activation, row.alpha)).toBeCloseTo(activateGrad(z, row.activation, row.alpha), 9);
    }
  }
});
