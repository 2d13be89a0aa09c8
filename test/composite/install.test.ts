/**
 * Which kernels serve an op: the fused ones where a backend table registered them, the
 * composite ones (kernels/composite/) where it did not or with TFJS_NORMS_COMPOSITE set, and the
 * flag switches back and forth (aliases follow). The op suites themselves run on the composite
 * path in the composite-cpu and composite-wasm jest projects.
 */
import * as tf from '@tensorflow/tfjs';
import * as norms from '../../src/index.js';
import {cpuKernelConfigs} from '../../kernels/cpu/register_all.js';
import {prepareBackend, registerBackendKernels} from '../../kernels/composite/install.js';
import {compositeKernelConfigs, isCompositeKernel} from '../../kernels/composite/register_all.js';
import {NORMS_COMPOSITE, NORMS_TF_FBN_CHANNELS_FIRST, setFlags, withFlags} from '../../src/flags.js';
import {KERNEL_ALIASES, NormsApply, NormsBackwardTraining} from '../../src/kernel_names.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const kernel = (name: string) => tf.getKernel(name, 'cpu');

function expectAliasesFollow(): void {
  for (const [alias, target] of Object.entries(KERNEL_ALIASES)) {
    expect(kernel(alias)?.kernelFunc).toBe(kernel(target)!.kernelFunc);
  }
}

function step(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor[] {
  return tf.tidy(() => {
    const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(norms.groupNorm(xx, {groups: 2, gamma: g, beta: b, activation: 'elu'}), tf.range(0, 48).reshape([2, 3, 2, 4])));
    const {value, grads} = tf.valueAndGrads(f)([x, gamma, beta]);
    return [value, ...grads];
  });
}

test('the flag swaps the fused kernels for the composite ones and back, aliases included', () => {
  const x = tf.randomNormal([2, 3, 2, 4], 1000, 0.01, 'float32', 7);
  const gamma = tf.tensor1d([1, -2, 0.5, 3]);
  const beta = tf.tensor1d([0.1, 0, -0.3, 0.2]);
  const before = tf.memory().numTensors;
  const fused = step(x, gamma, beta);
  expect(isCompositeKernel(kernel(NormsApply))).toBe(false);
  expectAliasesFollow();
  const composite = withFlags({[NORMS_COMPOSITE]: true}, () => {
    const r = step(x, gamma, beta);
    expect(isCompositeKernel(kernel(NormsApply))).toBe(true);
    expect(isCompositeKernel(kernel(NormsBackwardTraining))).toBe(true);
    expectAliasesFollow();
    return r;
  });
  // Back to the cpu table's own kernels.
  prepareBackend('cpu');
  for (const c of cpuKernelConfigs) expect(kernel(c.kernelName)).toBe(c);
  expectAliasesFollow();
  fused.forEach((t, i) => tf.tidy(() => {
    const scale = tf.max(tf.abs(t)).dataSync()[0];
    expect(tf.max(tf.abs(tf.sub(t, composite[i]))).dataSync()[0]).toBeLessThan(2e-3 * Math.max(1, scale));
  }));
  tf.dispose([...fused, ...composite]);
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([x, gamma, beta]);
});

test('a backend table registered after the composite kernels replaces them', () => {
  const restore = setFlags({[NORMS_COMPOSITE]: true});
  try {
    prepareBackend('cpu');
    expect(isCompositeKernel(kernel(NormsApply))).toBe(true);
  } finally {
    restore();
  }
  // The composite kernels are registered for cpu now, as for a backend without kernels of ours.
  for (const c of compositeKernelConfigs('cpu')) {
    tf.unregisterKernel(c.kernelName, 'cpu');
    tf.registerKernel(c);
  }
  registerBackendKernels(cpuKernelConfigs);
  prepareBackend('cpu');
  for (const c of cpuKernelConfigs) expect(kernel(c.kernelName)).toBe(c);
  expectAliasesFollow();
});

test('flags check their values', () => {
  expect(() => tf.env().set(NORMS_TF_FBN_CHANNELS_FIRST, 'sometimes')).toThrow(/gpu, always, never/);
  tf.env().set(NORMS_TF_FBN_CHANNELS_FIRST, 'gpu');
  expect(norms.flags.NORMS_COMPOSITE).toBe('TFJS_NORMS_COMPOSITE');
  expect(tf.env().getBool(NORMS_COMPOSITE)).toBe(false);
});
