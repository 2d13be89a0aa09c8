/**
 * Conversion between tfjs-layers' BatchNormalization and tfjs-norms' SyncBatchNormalization, on
 * models and on parsed model.json files.
 */
import {models, type LayersModel} from '@tensorflow/tfjs-layers';
import type {Tensor} from '@tensorflow/tfjs-core';
import type {CollectiveGroup} from '../collective/group.js';
import {SyncBatchNormalization} from '../layers/batch_normalization.js';
import '../layers/index.js';
import {topologyToInPlaceABN, topologyToPlain, topologyToSync, type Json, type JsonObject} from './topology.js';

export {topologyToInPlaceABN, topologyToPlain, topologyToSync};

/** A parsed model.json: `modelTopology` is rewritten, everything else (weights manifest) kept. */
export interface ModelJson {
  modelTopology: Json;
  [key: string]: unknown;
}

function mapJson(modelJson: ModelJson, f: (t: Json) => JsonObject): ModelJson {
  if (typeof modelJson !== 'object' || modelJson === null || !('modelTopology' in modelJson)) {
    throw new Error('expected a parsed model.json with a modelTopology');
  }
  return {...modelJson, modelTopology: f(modelJson.modelTopology)};
}

/** model.json with every batch-norm layer a SyncBatchNormalization; the weights manifest is untouched. */
export function toSyncBatchNormJSON(modelJson: ModelJson): ModelJson {
  return mapJson(modelJson, topologyToSync);
}

/** model.json with every SyncBatchNormalization a plain tfjs-layers BatchNormalization. */
export function fromSyncBatchNormJSON(modelJson: ModelJson): ModelJson {
  return mapJson(modelJson, topologyToPlain);
}

type AnyLayer = {name: string; getWeights(): Tensor[]; setWeights(w: Tensor[]): void; layers?: AnyLayer[]};

/** Every layer by name, nested models included. */
function layersByName(model: AnyLayer, out = new Map<string, AnyLayer>()): Map<string, AnyLayer> {
  for (const l of model.layers ?? []) {
    out.set(l.name, l);
    if (l.layers) layersByName(l, out);
  }
  return out;
}

async function rebuild(model: LayersModel, f: (t: Json) => JsonObject): Promise<LayersModel> {
  const topology = model.toJSON(null, false) as unknown as Json;
  const converted = await models.modelFromJSON({modelTopology: f(topology) as never});
  const source = layersByName(model as unknown as AnyLayer);
  for (const [name, layer] of layersByName(converted as unknown as AnyLayer)) {
    const from = source.get(name);
    if (from && !from.layers && from.getWeights().length > 0) layer.setWeights(from.getWeights());
  }
  return converted;
}

/**
 * A copy of `model` in which every batch-norm layer (tfjs-layers' and ours, in nested models
 * too) is a `syncBatchNormalization` with the same config and weights; predictions in
 * inference are unchanged. `group` is set on every such layer (default: the default group).
 */
export async function toSyncBatchNorm(model: LayersModel, opts: {group?: CollectiveGroup} = {}): Promise<LayersModel> {
  const converted = await rebuild(model, topologyToSync);
  if (opts.group) {
    for (const layer of layersByName(converted as unknown as AnyLayer).values()) {
      if (layer instanceof SyncBatchNormalization) layer.group = opts.group;
    }
  }
  return converted;
}

/**
 * The reverse of `toSyncBatchNorm`: plain tfjs-layers BatchNormalization layers (and
 * LayerNormalization for ours), for export to places without this package.
 */
export async function fromSyncBatchNorm(model: LayersModel): Promise<LayersModel> {
  return rebuild(model, topologyToPlain);
}

/**
 * A copy of `model` in which each batch norm followed by an invertible activation layer
 * (LeakyReLU, ELU) that is its only consumer is fused into one `inPlaceABN` layer with the batch
 * norm's name, config and weights; predictions are unchanged.
 */
export async function toInPlaceABN(model: LayersModel): Promise<LayersModel> {
  return rebuild(model, topologyToInPlaceABN);
}

/** `toInPlaceABN` on a parsed model.json; the weights manifest is untouched. */
export function toInPlaceABNJSON(modelJson: ModelJson): ModelJson {
  return mapJson(modelJson, topologyToInPlaceABN);
}
