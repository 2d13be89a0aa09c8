/**
 * Layer configs as Keras (2 and 3, through `tensorflowjs` or `model.to_json`) and tfjs-layers
 * write them, mapped to our constructors' arguments: the one table of Keras fields that do not
 * change the computation (dropped) and of those that do (passed on, or rejected by name).
 * Keys arrive camelCased, as tfjs-layers' deserialization hands them to `fromConfig`.
 */
import type {serialization} from '@tensorflow/tfjs-core';
import {shown} from '../ops/validate.js';

type Config = serialization.ConfigDict;

/** Keras fields that never change what a layer computes here: dropped whatever their value. */
const HARMLESS = [
  'fused', // Keras 2: which TensorFlow kernel to use.
  'autocast', // Keras 3: mixed-precision input casting (float32 only here).
  // Keras 2.12+/3: synchronize over a tf.distribute strategy's replicas. The same math in one
  // process; BatchNormalization.fromConfig builds a SyncBatchNormalization for `true`.
  'synchronized',
];

/**
 * Keras fields that change the math when on. `off` says which values leave the math alone
 * (dropped then, together with `companions`). When on: `reject` gives the reason the field is
 * refused; without `reject` the field (and its companions) go to the layer's constructor, which
 * implements it or refuses it as an unknown argument.
 */
interface MathField {
  off: (v: unknown) => boolean;
  companions?: string[];
  reject?: string;
}
const isOff = (v: unknown) => v === null || v === undefined || v === false;

export const KERAS_MATH_FIELDS: Record<string, MathField> = {
  // Batch renormalization: wired to the layer's own `renorm`, `renormClipping`, `renormMomentum`.
  renorm: {off: isOff, companions: ['renormClipping', 'renormMomentum']},
  virtualBatchSize: {off: isOff, reject: 'ghost batch normalization (statistics over sub-batches) is not implemented'},
  adjustment: {off: isOff, reject: 'a Python adjustment function cannot be loaded'},
  // Keras 3.0-3.6 LayerNormalization: RMS normalization instead of standardization.
  rmsScaling: {off: isOff, reject: 'use an RMS normalization layer instead of LayerNormalization'},
};

/** `dtype` as tfjs-layers wants it: Keras 3 writes a DTypePolicy object. */
function dtypeName(dtype: unknown): unknown {
  if (typeof dtype !== 'object' || dtype === null) return dtype;
  const name = ((dtype as Config).config as Config | undefined)?.name;
  return typeof name === 'string' ? name : 'float32';
}

/** The constructor arguments for a Keras/tfjs config of `layer` (a copy; `config` is untouched). */
export function fromKerasConfig(layer: string, config: Config): Config {
  const c: Config = {...config};
  for (const k of HARMLESS) delete c[k];
  for (const [field, spec] of Object.entries(KERAS_MATH_FIELDS)) {
    if (!(field in c)) continue;
    if (spec.off(c[field])) {
      for (const k of [field, ...(spec.companions ?? [])]) delete c[k];
    } else if (spec.reject) {
      const named = typeof c.name === 'string' ? ` '${c.name}'` : '';
      throw new Error(`${layer}${named}: Keras option '${snake(field)}' = ${shown(c[field])} changes the computation and is not ` +
        `supported: ${spec.reject}`);
    }
  }
  if ('dtype' in c) c.dtype = dtypeName(c.dtype) as Config[string];
  return c;
}

/** The factory's name of a class name, for messages: NormsBatchNormalization → batchNormalization, RMSNormalization → rmsNormalization. */
export function factoryName(className: string): string {
  return className.replace(/^(Norms|Addons>)/, '').replace(/^[A-Z]+(?=[A-Z][a-z])|^[A-Z]/, (m) => m.toLowerCase());
}

function snake(s: string): string {
  return s.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
}
