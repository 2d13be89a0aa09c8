/**
 * The kernels registered for the `tensorflow` backend are tfjs-norms' tensorflow kernels, and
 * the ops run on them (native TensorFlow ops through tfjs-node's binding).
 */
import {opsRun} from './support/ops_log.js';
import {tf, useTensorflow} from './support/tfnode.js';
import * as norms from '../../src/index.js';
import * as node from '../../src/node.js';
import {
  applyConfig, backwardApplyConfig, backwardReduceConfig, backwardTrainingConfig, momentsConfig, normalizeTrainingConfig,
} from '../../kernels/tensorflow/kernels.js';
import {rmsNormConfig, rmsNormGradConfig} from '../../kernels/tensorflow/rms_norm.js';
import * as names from '../../src/kernel_names.js';
import {prepareBackend} from '../../kernels/composite/install.js';
import type {Tensor} from '@tensorflow/tfjs-core';

beforeAll(async () => {
  await useTensorflow();
});

const expected = [
  [names.NormsMoments, momentsConfig], [names.NormsApply, applyConfig],
  [names.NormsNormalizeTraining, normalizeTrainingConfig], [names.NormsBackwardReduce, backwardReduceConfig],
  [names.NormsBackwardApply, backwardApplyConfig], [names.NormsBackwardTraining, backwardTrainingConfig],
  [names.NormsRMSNorm, rmsNormConfig], [names.NormsRMSNormGrad, rmsNormGradConfig],
] as const;

test('tfjs-norms/node registers every kernel of the contract for tensorflow', () => {
  expect(node.tensorflowKernelsRegistered).toBe(true);
  expect(node.tensorflowKernelConfigs).toHaveLength(expected.length);
  for (const [name, config] of expected) {
    expect(config.kernelName).toBe(name);
    expect(config.backendName).toBe('tensorflow');
    expect(tf.getKernel(name, 'tensorflow')).toBe(config);
    expect(node.tensorflowKernelConfigs).toContain(config);
  }
});

test('every kernel name of src/kernel_names.ts has a tensorflow kernel (aliases: the original\'s)', () => {
  const kernelNames = Object.entries(names)
    .filter(([k, v]) => typeof v === 'string' && k.startsWith('Norms') && k === v).map(([, v]) => v as string);
  const own = kernelNames.filter((n) => !(n in names.KERNEL_ALIASES));
  expect(own.sort()).toEqual(expected.map(([n]) => n).sort());
  for (const [alias, original] of Object.entries(names.KERNEL_ALIASES)) {
    expect(tf.getKernel(original, 'tensorflow')).toBeDefined();
    // Registered from the tensorflow kernel the first time an op needs it.
    prepareBackend('tensorflow');
    const k = tf.getKernel(alias, 'tensorflow')!;
    expect(k.kernelFunc).toBe(tf.getKernel(original, 'tensorflow')!.kernelFunc);
  }
});

test('the ops run tfjs-norms kernels on the tensorflow backend, as native TensorFlow ops', () => {
  expect(tf.getBackend()).toBe('tensorflow');
  const calls: string[] = [];
  const spies = expected.map(([, config]) => {
    const original = config.kernelFunc;
    const spy = jest.spyOn(config, 'kernelFunc').mockImplementation((args) => {
      calls.push(config.kernelName);
      return original(args);
    });
    return spy;
  });
  try {
    const {ops} = opsRun(() => tf.tidy(() => {
      const x = tf.randomNormal([4, 3, 3, 8]);
      const gamma = tf.ones([8]);
      const f = (xx: Tensor) => tf.sum(norms.batchNorm(xx, {training: true, gamma}).y);
      tf.grad(f)(x);
      norms.layerNorm(x);
      norms.groupNorm(x, {groups: 2});
      norms.instanceNorm(x, {dataFormat: 'NCHW'});
    }));
    expect(calls).toEqual(expect.arrayContaining([names.NormsNormalizeTraining, names.NormsBackwardTraining]));
    expect(ops).toContain('FusedBatchNormV3');
    expect(ops).toContain('FusedBatchNormGradV3');
  } finally {
    spies.forEach((s) => s.mockRestore());
  }
});
