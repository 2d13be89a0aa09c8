/** Names of the leak and error checks of the webgpu page (page.ts defines them), for the jest suite. */
export const LEAK_OPS = ['batchNorm training NCHW', 'batchNorm training NHWC', 'batchNorm inference', 'layerNorm',
  'groupNorm', 'instanceNorm', 'inplaceABN'];
export const LEAK_CHECKS = LEAK_OPS.flatMap((n) => [`${n}: forward`, `${n}: tf.grads`, `${n}: tf.variableGrads`]);
export const ERROR_CASES = ['rank 1', 'int32 x', 'gamma shape', 'groups not dividing', 'single value per channel',
  'single spatial element', 'relu from the output', 'disposed x'];
