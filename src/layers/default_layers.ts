/**
 * `useAsDefaultLayers()`: our classes under tfjs-layers' serialization names, so that
 * `tf.loadLayersModel` / `tf.models.modelFromJSON` build them from any model file (Keras's
 * converter, tfjs-layers' `model.save`).
 */
import {serialization} from '@tensorflow/tfjs-core';

type Entry = [serialization.SerializableConstructor<serialization.Serializable>, serialization.FromConfigMethod<serialization.Serializable>];
type LayerClass = {className: string; fromConfig: unknown};

/**
 * Registers `builtIns` (tfjs-layers' name → our class) and every class of `ours` under its own
 * name in tfjs-core's serialization map; returns the function that puts back what was there.
 */
export function registerAsDefaults(builtIns: Record<string, LayerClass>, ours: readonly LayerClass[]): () => void {
  const map = serialization.SerializationMap.getMap().classNameMap as Record<string, Entry | undefined>;
  const wanted = new Map<string, LayerClass>([...ours.map((c) => [c.className, c] as const), ...Object.entries(builtIns)]);
  const previous = new Map([...wanted.keys()].map((name) => [name, map[name]]));
  for (const [name, cls] of wanted) map[name] = [cls, cls.fromConfig] as unknown as Entry;
  let restored = false;
  return () => {
    if (restored) return;
    restored = true;
    for (const [name, entry] of previous) {
      if (entry === undefined) delete map[name];
      else map[name] = entry;
    }
  };
}
