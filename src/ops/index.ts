export {batchNorm} from './batch_norm.js';
export {groupNorm} from './group_norm.js';
export {instanceNorm} from './instance_norm.js';
export {inplaceABN, type InplaceABNOptions, type InplaceABNResult} from './inplace_abn.js';
export {layerNorm} from './layer_norm.js';
export {rmsNorm} from './rms_norm.js';
export {
  sparseBatchNorm, type SparseBatchNormOptions, type SparseBatchNormResult, type SparseCoo,
} from './sparse_batch_norm.js';
export {syncBatchNorm, type SyncBatchNormOptions, type SyncBatchNormResult} from './sync_batch_norm.js';
export type {
  BatchNormOptions, BatchNormResult, DataFormat, GroupNormOptions, LayerNormOptions, NormOptions,
  RenormOptions, RMSNormOptions,
} from './types.js';
