/**
 * Rewrites of a Keras/tfjs model topology (the `modelTopology` of model.json): every batch
 * norm layer becomes a SyncBatchNormalization, or back to tfjs-layers' BatchNormalization.
 * Nested models are handled by walking every layer list.
 */

export type Json = null | boolean | number | string | Json[] | {[k: string]: Json};
export type JsonObject = {[k: string]: Json};

/** Class names converted to SyncBatchNormalization. */
export const PLAIN_BATCH_NORMS = ['BatchNormalization', 'NormsBatchNormalization'];
/** Class names converted back to plain BatchNormalization. */
export const SYNC_BATCH_NORMS = ['SyncBatchNormalization', 'NormsBatchNormalization'];

/** Our options tfjs-layers' BatchNormalization does not have. */
const EXTRA_KEYS = ['activation', 'alpha', 'unbiased_moving_variance', 'use_global_stats', 'trainable_statistics'];

const isObject = (x: Json | undefined): x is JsonObject => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The activation layer that carries a fused activation after conversion to plain layers. */
function activationLayer(name: string, activation: string, alpha: Json | undefined, trainable: Json | undefined): JsonObject {
  if (activation === 'relu' || (activation === 'elu' && (alpha === null || alpha === undefined || alpha === 1))) {
    return {class_name: 'Activation', config: {name, trainable: trainable ?? true, activation}};
  }
  if (activation === 'leakyRelu') {
    return {class_name: 'LeakyReLU', config: {name, trainable: trainable ?? true, alpha: alpha ?? 0.01}};
  }
  if (activation === 'elu') return {class_name: 'ELU', config: {name, trainable: trainable ?? true, alpha: alpha as number}};
  throw new Error(`cannot express activation '${activation}' with a tfjs-layers layer`);
}

/** Renames every reference to layer `from` in a functional config's inbound nodes and outputs to `to`. */
function redirect(config: JsonObject, from: string, to: string, skip: JsonObject): void {
  const fix = (node: Json): void => {
    if (Array.isArray(node)) {
      if (node.length >= 3 && node[0] === from && typeof node[1] === 'number') node[0] = to;
      else node.forEach(fix);
    } else if (isObject(node)) {
      Object.values(node).forEach(fix);
    }
  };
  for (const layer of config.layers as JsonObject[]) if (layer !== skip) fix(layer.inbound_nodes);
  fix(config.output_layers);
}

/** Converts the layers of one model config (Sequential or functional), recursing into nested models. */
function convertLayers(config: JsonObject, convert: (layer: JsonObject) => JsonObject | null): void {
  const layers = config.layers;
  if (!Array.isArray(layers)) return;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    if (!isObject(layer)) continue;
    if (isObject(layer.config) && Array.isArray(layer.config.layers)) convertLayers(layer.config, convert);
    const extra = convert(layer);
    if (extra === null) continue;
    // A layer to insert after this one (a fused activation made explicit).
    const name = (layer.config as JsonObject).name as string;
    const extraName = (extra.config as JsonObject).name as string;
    if (Array.isArray(layer.inbound_nodes)) {
      redirect(config, name, extraName, layer);
      extra.name = extraName;
      extra.inbound_nodes = [[[name, 0, 0, {}]]];
    }
    layers.splice(i + 1, 0, extra);
    i++;
  }
}

function cloneTopology(topology: Json): JsonObject {
  if (!isObject(topology)) throw new Error('modelTopology must be an object');
  const copy = JSON.parse(JSON.stringify(topology)) as JsonObject;
  // model.json files nest the Keras topology under model_config in some exporters.
  return copy;
}

function root(topology: JsonObject): JsonObject {
  const top = isObject(topology.model_config) ? topology.model_config : topology;
  if (!isObject(top.config)) throw new Error('modelTopology has no model config');
  return top;
}

/** A copy of `topology` with every batch-norm layer a SyncBatchNormalization (same config). */
export function topologyToSync(topology: Json): JsonObject {
  const copy = cloneTopology(topology);
  const top = root(copy);
  const convert = (layer: JsonObject): null => {
    if (PLAIN_BATCH_NORMS.includes(layer.class_name as string)) layer.class_name = 'SyncBatchNormalization';
    return null;
  };
  if (PLAIN_BATCH_NORMS.includes(top.class_name as string)) throw new Error('the model itself is a layer');
  convertLayers(top.config as JsonObject, convert);
  return copy;
}

/**
 * A copy of `topology` with every (sync) batch norm of ours a plain BatchNormalization (and our
 * LayerNormalization tfjs-layers' one); a fused
 * activation becomes a layer of its own right after it (named `<name>_activation`), so the
 * weights keep their names.
 */
export function topologyToPlain(topology: Json): JsonObject {
  const copy = cloneTopology(topology);
  const convert = (layer: JsonObject): JsonObject | null => {
    // Same config as tfjs-layers' LayerNormalization (e.g. a model loaded after useAsDefaultLayers).
    if (layer.class_name === 'NormsLayerNormalization') layer.class_name = 'LayerNormalization';
    if (!SYNC_BATCH_NORMS.includes(layer.class_name as string)) return null;
    layer.class_name = 'BatchNormalization';
    const c = layer.config as JsonObject;
    // model.json spells option values the Python way ('leaky_relu').
    const activation = camel((c.activation ?? 'linear') as string);
    const alpha = c.alpha;
    for (const k of [...EXTRA_KEYS, ...EXTRA_KEYS.map(camel)]) delete c[k];
    // tfjs-layers has no cumulative moving average; inference does not depend on momentum.
    if (c.momentum === null) c.momentum = 0.99;
    return activation === 'linear' ? null : activationLayer(`${c.name as string}_activation`, activation, alpha, c.trainable);
  };
  convertLayers(root(copy).config as JsonObject, convert);
  return copy;
}

function camel(s: string): string {
  return s.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
}

/** The invertible activation of a tfjs-layers activation layer config, or null. */
function invertibleActivation(layer: JsonObject): {activation: string; alpha: number} | null {
  const c = (layer.config ?? {}) as JsonObject;
  if (layer.class_name === 'LeakyReLU') {
    const alpha = (c.alpha ?? 0.3) as number;
    return alpha > 0 ? {activation: 'leakyRelu', alpha} : null;
  }
  if (layer.class_name === 'ELU') return {activation: 'elu', alpha: (c.alpha ?? 1) as number};
  if (layer.class_name === 'Activation') {
    const a = camel(c.activation as string);
    if (a === 'elu') return {activation: 'elu', alpha: 1};
    if (a === 'linear') return {activation: 'linear', alpha: 0};
  }
  return null;
}

/** The layers of a functional config that read the output of layer `name`. */
function consumers(config: JsonObject, name: string): JsonObject[] {
  return (config.layers as JsonObject[]).filter((l) => JSON.stringify(l.inbound_nodes ?? []).includes(`["${name}",`));
}

/**
 * A copy of `topology` in which every batch norm (tfjs-layers' or ours, with no fused
 * activation) directly followed by an invertible activation layer (LeakyReLU, ELU, or
 * Activation 'elu'/'linear') that is its only consumer becomes one InPlaceABN layer, keeping the
 * batch norm's name and weights.
 */
export function topologyToInPlaceABN(topology: Json): JsonObject {
  const copy = cloneTopology(topology);
  const fuse = (config: JsonObject): void => {
    const layers = config.layers as JsonObject[] | undefined;
    if (!Array.isArray(layers)) return;
    for (const l of layers) if (isObject(l.config) && Array.isArray((l.config as JsonObject).layers)) fuse(l.config as JsonObject);
    const functional = layers.some((l) => Array.isArray(l.inbound_nodes));
    for (let i = 0; i < layers.length; i++) {
      const bn = layers[i];
      const c = bn.config as JsonObject;
      if (![...PLAIN_BATCH_NORMS].includes(bn.class_name as string)) continue;
      if (camel((c.activation ?? 'linear') as string) !== 'linear') continue;
      let act: JsonObject | undefined;
      if (functional) {
        const users = consumers(config, c.name as string);
        const outputs = JSON.stringify(config.output_layers ?? []);
        if (users.length !== 1 || outputs.includes(`["${c.name as string}",`)) continue;
        act = users[0];
      } else {
        act = layers[i + 1];
      }
      const spec = act ? invertibleActivation(act) : null;
      if (!act || !spec) continue;
      bn.class_name = 'InPlaceABN';
      c.activation = spec.activation;
      c.alpha = spec.activation === 'linear' ? null : spec.alpha;
      layers.splice(layers.indexOf(act), 1);
      if (functional) redirect(config, (act.config as JsonObject).name as string, c.name as string, bn);
      i = layers.indexOf(bn);
    }
  };
  fuse(root(copy).config as JsonObject);
  return copy;
}
