import {KERNEL_CASES} from '../webgl/cases.js';

/** Names of the leak and error checks of the webgpu page (page.ts defines them), for the jest suite. */
export const LEAK_OPS = ['batchNorm training NCHW', 'batchNorm training NHWC', 'batchNorm inference', 'layerNorm',
  'groupNorm', 'instanceNorm', 'inplaceABN'];
export const LEAK_CHECKS = LEAK_OPS.flatMap((n) => [`${n}: forward`, `${n}: tf.grads`, `${n}: tf.variableGrads`]);
export const ERROR_CASES = ['rank 1', 'int32 x', 'gamma shape', 'groups not dividing', 'single value per channel',
  'single spatial element', 'relu from the output', 'disposed x'];

type KernelCase = typeof KERNEL_CASES[number];

/**
 * Direct kernel calls on shapes that take the webgpu kernels' other schemes: many short rows (one
 * invocation per row), channels-last columns over several row blocks and channel blocks.
 */
export const WEBGPU_KERNEL_CASES: KernelCase[] = [...KERNEL_CASES,
  {name: 'NSC rows, 300 short rows', layout: 'NSC', shape: [300, 40], groups: 1, perSample: true, activation: 'elu', alpha: 0.7},
  {name: 'NCS groups, 256 short slots', layout: 'NCS', shape: [64, 8, 30], groups: 4, perSample: true, activation: 'leakyRelu', alpha: 0.1},
  {name: 'NSC groups, 128 short slots', layout: 'NSC', shape: [32, 5, 3, 12], groups: 4, perSample: true, activation: 'linear', alpha: 0},
  {name: 'NSC batch, 3 row blocks x 2 channel blocks', layout: 'NSC', shape: [600, 70], groups: 70, perSample: false, activation: 'relu', alpha: 0},
  {name: 'NSC batch rank 4, 66 channels', layout: 'NSC', shape: [4, 9, 10, 66], groups: 66, perSample: false, activation: 'linear', alpha: 0},
];
