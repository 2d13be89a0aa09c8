/** `tfjs-norms convert <model.json> <outDir> --to sync|plain`. */
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {dirname, join, resolve} from 'node:path';
import {fromSyncBatchNormJSON, toSyncBatchNormJSON, type ModelJson} from '../convert/index.js';
import {copyWeightFiles} from './model_files.js';

export function convertModelFile(modelPath: string, outDir: string, to: 'sync' | 'plain'): {modelJson: string; weights: string[]} {
  const modelJson = JSON.parse(readFileSync(modelPath, 'utf8')) as ModelJson;
  const converted = to === 'sync' ? toSyncBatchNormJSON(modelJson) : fromSyncBatchNormJSON(modelJson);
  if (resolve(dirname(modelPath)) === resolve(outDir)) {
    throw new Error('the output folder must differ from the model\'s folder');
  }
  mkdirSync(outDir, {recursive: true});
  const out = join(outDir, 'model.json');
  writeFileSync(out, JSON.stringify(converted));
  return {modelJson: out, weights: copyWeightFiles(modelJson as never, dirname(modelPath), outDir)};
}
