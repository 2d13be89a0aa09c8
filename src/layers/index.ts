/**
 * tf.layers-compatible normalization layers. Each factory returns a `tf.layers.Layer`
 * registered with `tf.serialization`, so `model.save` / `tf.loadLayersModel` round-trip it.
 */
import {serialization} from '@tensorflow/tfjs-core';
import {
  BatchNormalization, type BatchNormalizationArgs, SyncBatchNormalization, type SyncBatchNormalizationArgs,
} from './batch_normalization.js';
import {
  AddonsGroupNormalization, AddonsInstanceNormalization, GroupNormalization, type GroupNormalizationArgs,
  InstanceNormalization, type InstanceNormalizationArgs,
} from './group_normalization.js';
import {registerAsDefaults} from './default_layers.js';
import {InPlaceABN, type InPlaceABNArgs} from './inplace_abn.js';
import {LayerNormalization, type LayerNormalizationArgs} from './layer_normalization.js';

export {
  AddonsGroupNormalization, AddonsInstanceNormalization, BatchNormalization, GroupNormalization, InPlaceABN,
  InstanceNormalization, LayerNormalization, SyncBatchNormalization,
};
export type {
  BatchNormalizationArgs, GroupNormalizationArgs, InPlaceABNArgs, InstanceNormalizationArgs, LayerNormalizationArgs,
  SyncBatchNormalizationArgs,
};

/** Every layer class, by the class name written into model.json. */
export const LAYER_CLASSES = [
  BatchNormalization, SyncBatchNormalization, LayerNormalization, GroupNormalization, AddonsGroupNormalization,
  InstanceNormalization, AddonsInstanceNormalization, InPlaceABN,
];
for (const cls of LAYER_CLASSES) serialization.registerClass(cls as never);

/** tfjs-layers' class names that `useAsDefaultLayers` takes over, and our class for each. */
export const DEFAULT_LAYER_NAMES = {BatchNormalization, LayerNormalization};

/**
 * Makes every later `tf.loadLayersModel` / `tf.models.modelFromJSON` build this package's
 * classes for tfjs-layers' and Keras's `BatchNormalization` and `LayerNormalization` (same
 * config, same weights; Keras's `axis: [3]` and other Keras fields accepted), and ours for the
 * names already registered (`GroupNormalization`, `SyncBatchNormalization`, …). Returns the
 * function that restores what was registered before (tfjs-layers' classes).
 *
 * ```js
 * const restore = tfnorms.layers.useAsDefaultLayers();
 * const model = await tf.loadLayersModel('https://example.com/model.json');  // fused layers
 * restore();
 * ```
 */
export function useAsDefaultLayers(): () => void {
  return registerAsDefaults(DEFAULT_LAYER_NAMES, LAYER_CLASSES);
}

/** Batch normalization with tfjs-layers' arguments and defaults, plus `activation`, `alpha`, `momentum: null`, `unbiasedMovingVariance`, `useGlobalStats`, `trainableStatistics`. */
export function batchNormalization(args?: BatchNormalizationArgs): BatchNormalization {
  return new BatchNormalization(args);
}

/** Batch normalization with statistics synchronized across ranks in training. */
export function syncBatchNormalization(args?: SyncBatchNormalizationArgs): SyncBatchNormalization {
  return new SyncBatchNormalization(args);
}

/** Layer normalization with the arguments and defaults of `tf.layers.layerNormalization`. */
export function layerNormalization(args?: LayerNormalizationArgs): LayerNormalization {
  return new LayerNormalization(args);
}

/** Keras 3's GroupNormalization (`groups` 32 by default, -1 for instance norm). */
export function groupNormalization(args?: GroupNormalizationArgs): GroupNormalization {
  return new GroupNormalization(args);
}

/** Instance normalization (statistics per sample and channel). */
export function instanceNormalization(args?: InstanceNormalizationArgs): InstanceNormalization {
  return new InstanceNormalization(args);
}

/** In-Place Activated BatchNorm (leakyRelu by default). */
export function inPlaceABN(args?: InPlaceABNArgs): InPlaceABN {
  return new InPlaceABN(args);
}
