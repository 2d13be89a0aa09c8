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
  // Four elements per vector in the elementwise programs (NCS with S % 4 == 0, NSC with C % 4 == 0).
  {name: 'NCS groups as vectors, 2 channels per group', layout: 'NCS', shape: [3, 6, 8], groups: 3, perSample: true, activation: 'elu', alpha: 0.7},
  {name: 'NCS batch as vectors', layout: 'NCS', shape: [2, 4, 3, 4], groups: 2, perSample: false, activation: 'leakyRelu', alpha: 0.1},
  {name: 'NSC groups as vectors, 2 channels per group', layout: 'NSC', shape: [3, 5, 8], groups: 4, perSample: true, activation: 'relu', alpha: 0},
  {name: 'NSC instances as vectors', layout: 'NSC', shape: [2, 3, 8], groups: 8, perSample: true, activation: 'elu', alpha: 0.7},
  {name: 'NSC groups as vectors, 4 channels per group', layout: 'NSC', shape: [2, 3, 16], groups: 4, perSample: true, activation: 'leakyRelu', alpha: 0.2},
  {name: 'NSC batch rank 4, 66 channels', layout: 'NSC', shape: [4, 9, 10, 66], groups: 66, perSample: false, activation: 'linear', alpha: 0},
];

export interface RmsCase {
  name: string;
  shape: number[];
  /** Trailing axes normalized. */
  axisCount: number;
}

/**
 * RMSNorm beyond the fixtures' shapes: many short rows (one invocation per row), long rows (a
 * workgroup per row), vectors (D % 4 == 0) or not, dgamma over several row and column blocks.
 */
export const RMS_CASES: RmsCase[] = [
  {name: 'RMSNorm 300 short rows of 40 (vectors)', shape: [3, 100, 40], axisCount: 1},
  {name: 'RMSNorm 130 short rows of 7', shape: [130, 7], axisCount: 1},
  {name: 'RMSNorm long rows of 5000 (vectors)', shape: [3, 5000], axisCount: 1},
  {name: 'RMSNorm long rows of 4099', shape: [2, 4099], axisCount: 1},
  {name: 'RMSNorm 600 rows of 70, two axes', shape: [600, 7, 10], axisCount: 2},
  {name: 'RMSNorm 777 rows of 132 (row and column blocks)', shape: [777, 132], axisCount: 1},
];
