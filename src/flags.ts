/**
 * The switches of tfjs-norms, as tfjs environment flags (`tf.env().set(name, value)`, or
 * `?tfjsflags=NAME:value` in a page's URL). Registered when this module loads; every entry point
 * loads it. See docs/kernels.md ("Flags").
 */
import {env} from '@tensorflow/tfjs-core';

/**
 * `true`: every op runs as the composite of tfjs kernels (kernels/composite/) even on a backend
 * with fused kernels of ours: the same path a backend without them takes. Default `false`.
 */
export const NORMS_COMPOSITE = 'TFJS_NORMS_COMPOSITE';

/** tensorflow backend: `_MklLayerNorm` for LayerNorm's forward and its backward's x̂ where the build has it. Default `true`. */
export const NORMS_TF_MKL_LAYER_NORM = 'TFJS_NORMS_TF_MKL_LAYER_NORM';

/** tensorflow backend: `FusedBatchNormV3`/`FusedBatchNormGradV3` for BatchNorm (and InstanceNorm). Default `true`. */
export const NORMS_TF_FUSED_BATCH_NORM = 'TFJS_NORMS_TF_FUSED_BATCH_NORM';

/**
 * tensorflow backend: `FusedBatchNorm*` on channels-first views too: `'gpu'` (default: where
 * cuDNN runs NCHW natively), `'always'` or `'never'`.
 */
export const NORMS_TF_FBN_CHANNELS_FIRST = 'TFJS_NORMS_TF_FBN_CHANNELS_FIRST';

/**
 * tensorflow backend: raw `x` (no `x − shift` pass) when the statistics show it is exact
 * (`RAW_SUMS_LIMIT`, `RAW_MEAN_LIMIT` in kernels/tensorflow/paths.ts). Default `true`.
 */
export const NORMS_TF_RAW_INPUTS = 'TFJS_NORMS_TF_RAW_INPUTS';

/**
 * wasm backend: run the kernels' loops on the WebAssembly SIMD build (kernels/wasm/simd/) once it
 * is loaded; `false`: the JavaScript loops. Default `true`.
 */
export const NORMS_WASM_SIMD = 'TFJS_NORMS_WASM_SIMD';

const CHANNELS_FIRST_MODES = ['gpu', 'always', 'never'];

const e = env();
e.registerFlag(NORMS_COMPOSITE, () => false);
e.registerFlag(NORMS_TF_MKL_LAYER_NORM, () => true);
e.registerFlag(NORMS_TF_FUSED_BATCH_NORM, () => true);
e.registerFlag(NORMS_TF_FBN_CHANNELS_FIRST, () => 'gpu', (value) => {
  if (!CHANNELS_FIRST_MODES.includes(value as string)) {
    throw new Error(`${NORMS_TF_FBN_CHANNELS_FIRST} must be one of ${CHANNELS_FIRST_MODES.join(', ')}; got ${String(value)}`);
  }
});
e.registerFlag(NORMS_TF_RAW_INPUTS, () => true);
e.registerFlag(NORMS_WASM_SIMD, () => true);

/** Sets flags and returns the function that restores their previous values. */
export function setFlags(flags: Record<string, boolean | string | number>): () => void {
  const saved = Object.keys(flags).map((k) => [k, e.get(k)] as const);
  for (const [k, v] of Object.entries(flags)) e.set(k, v);
  return () => {
    for (const [k, v] of saved) e.set(k, v);
  };
}

/** Runs `f` with the given flags set, restoring their previous values afterwards. */
export function withFlags<R>(flags: Record<string, boolean | string | number>, f: () => R): R {
  const restore = setFlags(flags);
  try {
    return f();
  } finally {
    restore();
  }
}
