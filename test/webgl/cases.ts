/**
 * The webgl-specific checks (shapes, input textures, direct kernel calls), compared with the
 * cpu backend in the same page. Shared by the jest suite and the page.
 */
import type {InputKind, PassCase, SpecialCase} from './page.js';

type KernelCase = {
  name: string; layout: 'NCS' | 'NSC'; shape: number[]; groups: number; perSample: boolean;
  activation: 'linear' | 'relu' | 'leakyRelu' | 'elu'; alpha: number;
};

const bn = (name: string, shape: number[], dataFormat: 'NCHW' | 'NHWC', extra: Record<string, unknown> = {},
            input?: InputKind): SpecialCase => ({name, op: 'batchNorm', shape, input,
  opts: {training: true, dataFormat, activation: 'relu', ...extra}});

export const SPECIAL: SpecialCase[] = [
  // Large C.
  bn('batchNorm NHWC C=4096', [4, 3, 3, 4096], 'NHWC'),
  bn('batchNorm NCHW C=4096', [3, 4096, 2, 3], 'NCHW', {activation: 'elu'}),
  {name: 'layerNorm D=4096', op: 'layerNorm', shape: [6, 4096], opts: {}},
  {name: 'groupNorm NHWC C=4096 G=64', op: 'groupNorm', shape: [2, 3, 2, 4096], opts: {groups: 64, activation: 'leakyRelu', alpha: 0.1}},
  {name: 'instanceNorm NCHW C=4096', op: 'instanceNorm', shape: [2, 4096, 3, 3], opts: {dataFormat: 'NCHW'}},
  // Odd sizes (packing padding in rows and columns).
  bn('batchNorm NCHW odd H, W', [3, 5, 7, 9], 'NCHW'),
  bn('batchNorm NHWC odd W, C', [3, 5, 7, 9], 'NHWC', {activation: 'leakyRelu', alpha: 0.2}),
  bn('batchNorm NCS rank 3 odd', [5, 7, 3], 'NCHW', {activation: 'linear'}),
  bn('batchNorm rank 2 odd', [9, 7], 'NHWC', {activation: 'elu'}),
  {name: 'groupNorm NHWC odd', op: 'groupNorm', shape: [3, 5, 7, 6], opts: {groups: 3, activation: 'elu'}},
  {name: 'groupNorm NCHW rank 3 odd groups', op: 'groupNorm', shape: [3, 9, 5], opts: {groups: 3, dataFormat: 'NCHW'}},
  {name: 'groupNorm rank 2', op: 'groupNorm', shape: [5, 12], opts: {groups: 4}},
  {name: 'instanceNorm NCHW odd', op: 'instanceNorm', shape: [3, 5, 7, 3], opts: {dataFormat: 'NCHW', activation: 'relu'}},
  {name: 'instanceNorm NHWC odd', op: 'instanceNorm', shape: [3, 7, 5, 3], opts: {}},
  {name: 'layerNorm odd rows', op: 'layerNorm', shape: [3, 7, 13], opts: {}},
  {name: 'layerNorm two axes odd', op: 'layerNorm', shape: [3, 7, 13], opts: {axes: [-2, -1]}},
  {name: 'layerNorm three axes', op: 'layerNorm', shape: [2, 3, 5, 7], opts: {axes: [-3, -2, -1]}},
  // Rank 5.
  bn('batchNorm NCHW rank 5', [2, 3, 4, 5, 6], 'NCHW'),
  bn('batchNorm NHWC rank 5', [2, 3, 4, 5, 6], 'NHWC', {activation: 'elu', alpha: 0.5}),
  {name: 'groupNorm NCHW rank 5', op: 'groupNorm', shape: [2, 6, 3, 4, 5], opts: {groups: 2, dataFormat: 'NCHW'}},
  {name: 'instanceNorm NHWC rank 5', op: 'instanceNorm', shape: [2, 3, 4, 5, 6], opts: {activation: 'leakyRelu'}},
  {name: 'layerNorm rank 5', op: 'layerNorm', shape: [2, 3, 4, 5, 6], opts: {axes: [-2, -1]}},
  // An empty batch: no texture to run a program on; empty outputs and zero parameter gradients.
  {name: 'layerNorm empty batch', op: 'layerNorm', shape: [0, 8], opts: {}},
  {name: 'groupNorm NHWC empty batch', op: 'groupNorm', shape: [0, 3, 3, 8], opts: {groups: 2}},
  {name: 'instanceNorm NCHW empty batch', op: 'instanceNorm', shape: [0, 4, 3, 3], opts: {dataFormat: 'NCHW'}},
  // More than 10^6 elements per slot.
  bn('batchNorm NCHW 2^20 per channel', [4, 2, 512, 512], 'NCHW', {activation: 'linear'}),
  bn('batchNorm NHWC 2^20 per channel', [4, 512, 512, 2], 'NHWC', {activation: 'linear'}),
  {name: 'layerNorm 1.2e6 per row', op: 'layerNorm', shape: [2, 1200000], opts: {}},
  {name: 'instanceNorm NHWC 1.05e6 per slot', op: 'instanceNorm', shape: [1, 1024, 1030, 2], opts: {activation: 'relu'}},
  {name: 'groupNorm NCHW 2.1e6 per slot', op: 'groupNorm', shape: [1, 2, 1024, 1030], opts: {groups: 1, dataFormat: 'NCHW'}},
  // Textures at the size limit (T = 2·WEBGL_MAX_TEXTURE_SIZE elements: one packed texture row or
  // column of the maximum size) and beyond it in one dimension (tfjs squarifies them).
  {name: 'layerNorm D=T (packed row at the limit)', op: 'layerNorm', shape: [], limitShape: [2, 'T'], opts: {}},
  {name: 'layerNorm D=T, unpacked input (squarified unpacked texture)', op: 'layerNorm', shape: [], limitShape: [2, 'T'], opts: {}, input: 'unpacked'},
  {name: 'layerNorm D=T+2 (squarified)', op: 'layerNorm', shape: [], limitShape: [3, 'T+2'], opts: {}},
  {...bn('batchNorm NHWC T rows (packed column at the limit)', [], 'NHWC'), limitShape: ['T', 2]},
  {...bn('batchNorm NCHW T+2 rows (squarified)', [], 'NCHW', {activation: 'elu'}), limitShape: ['T+2', 3]},
  {name: 'instanceNorm NCHW rank 4 past the limit', op: 'instanceNorm', shape: [], limitShape: [1, 3, 'T', 2], opts: {dataFormat: 'NCHW'}},
  {name: 'layerNorm D=70000', op: 'layerNorm', shape: [3, 70000], opts: {}},
  bn('batchNorm NHWC 20000 rows', [20000, 3], 'NHWC'),
  // Data far from zero: x = 1000 + 0.01·noise (exact mean through shift and offset).
  {...bn('batchNorm NCHW 1000 + 0.01 noise', [4, 3, 8, 8], 'NCHW', {activation: 'linear'}), offset: 1000, scale: 0.01},
  {...bn('batchNorm NHWC 1000 + 0.01 noise', [4, 8, 8, 3], 'NHWC', {activation: 'linear'}), offset: 1000, scale: 0.01},
  {name: 'layerNorm 1000 + 0.01 noise', op: 'layerNorm', shape: [6, 64], opts: {}, offset: 1000, scale: 0.01},
  {name: 'groupNorm 1000 + 0.01 noise', op: 'groupNorm', shape: [2, 4, 4, 6], opts: {groups: 3}, offset: 1000, scale: 0.01},
  // Inference mode.
  {name: 'batchNorm inference NCHW', op: 'batchNorm', shape: [3, 5, 4, 6], opts: {training: false, dataFormat: 'NCHW', activation: 'elu'}, grads: false},
];

// Every kind of input texture, for each layout.
for (const input of ['upload', 'unpacked', 'packed', 'slice', 'reshaped'] as const) {
  SPECIAL.push(bn(`batchNorm NCHW, ${input} input`, [3, 4, 6, 8], 'NCHW', {}, input));
  SPECIAL.push(bn(`batchNorm NHWC, ${input} input`, [3, 5, 6, 4], 'NHWC', {activation: 'elu'}, input));
  SPECIAL.push({name: `layerNorm, ${input} input`, op: 'layerNorm', shape: [4, 6, 10], opts: {}, input});
  SPECIAL.push({name: `groupNorm NHWC, ${input} input`, op: 'groupNorm', shape: [2, 3, 4, 6], opts: {groups: 2}, input});
}

export const KERNEL_CASES: KernelCase[] = [];

for (const [activation, alpha] of [['linear', 0], ['relu', 0], ['leakyRelu', 0.1], ['elu', 0.7]] as const) {
  KERNEL_CASES.push(
    {name: `NCS batch ${activation}`, layout: 'NCS', shape: [3, 4, 5, 6], groups: 4, perSample: false, activation, alpha},
    {name: `NSC batch ${activation}`, layout: 'NSC', shape: [3, 5, 6, 4], groups: 4, perSample: false, activation, alpha},
    {name: `NCS groups ${activation}`, layout: 'NCS', shape: [3, 6, 5], groups: 3, perSample: true, activation, alpha},
    {name: `NSC groups ${activation}`, layout: 'NSC', shape: [3, 5, 7, 6], groups: 2, perSample: true, activation, alpha},
    {name: `NSC rows ${activation}`, layout: 'NSC', shape: [4, 16], groups: 1, perSample: true, activation, alpha},
  );
}

/** Forward+backward programs: NHWC and LayerNorm reductions read x in place (no transpose). */
export const PASS_CASES: PassCase[] = [
  {name: 'batchNorm NHWC', op: 'batchNorm', shape: [4, 8, 8, 16], opts: {training: true}},
  {name: 'batchNorm NHWC rank 5, relu', op: 'batchNorm', shape: [2, 3, 4, 8, 6], opts: {training: true, activation: 'relu'}},
  {name: 'groupNorm NHWC', op: 'groupNorm', shape: [2, 8, 8, 12], opts: {groups: 3}},
  {name: 'instanceNorm NHWC', op: 'instanceNorm', shape: [2, 8, 8, 6], opts: {activation: 'elu'}},
  {name: 'layerNorm', op: 'layerNorm', shape: [4, 8, 64], opts: {}},
  {name: 'layerNorm two axes', op: 'layerNorm', shape: [16, 8, 64], opts: {axes: [-2, -1]}},
  {name: 'batchNorm NCHW', op: 'batchNorm', shape: [4, 16, 8, 8], opts: {training: true, dataFormat: 'NCHW'}},
  {name: 'groupNorm NCHW rank 3', op: 'groupNorm', shape: [3, 6, 64], opts: {groups: 2, dataFormat: 'NCHW'}},
];

/**
 * Cases for the fallback path (float32 rendering forced off: half-float textures, so the
 * composition of tfjs kernels is checked at half precision, rtol 2e-2).
 */
export const FALLBACK_CASES: SpecialCase[] = [
  {...bn('fallback batchNorm NCHW relu', [3, 4, 5, 6], 'NCHW'), rtol: 2e-2},
  {...bn('fallback batchNorm NHWC elu', [3, 5, 6, 4], 'NHWC', {activation: 'elu'}), rtol: 2e-2},
  {name: 'fallback batchNorm inference', op: 'batchNorm', shape: [4, 6], opts: {training: false, activation: 'leakyRelu'}, rtol: 2e-2},
  {name: 'fallback layerNorm', op: 'layerNorm', shape: [4, 6, 10], opts: {}, rtol: 2e-2},
  {name: 'fallback groupNorm NHWC', op: 'groupNorm', shape: [2, 3, 4, 6], opts: {groups: 2, activation: 'leakyRelu'}, rtol: 2e-2},
  {name: 'fallback instanceNorm NCHW', op: 'instanceNorm', shape: [2, 3, 4, 5], opts: {dataFormat: 'NCHW', activation: 'elu'}, rtol: 2e-2},
];
