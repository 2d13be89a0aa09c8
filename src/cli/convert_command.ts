/** `tfjs-norms convert <model.json> <outDir> --to sync|plain [--force]`. */
import {mkdirSync, readFileSync, realpathSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fromSyncBatchNormJSON, toSyncBatchNormJSON, type ModelJson} from '../convert/index.js';
import {modelFolder, readInside, safeRelative, writeFilesAtomically, type OutputFile} from './model_files.js';

export interface ConvertFileOptions {
  /** Allow the output folder to be the model's own folder (model.json is then replaced). */
  force?: boolean;
}

/**
 * Converts the model at `modelPath` into `outDir`. Weight files are read only from inside the
 * model's folder (real paths), the output folder is compared with it by real path, and every
 * output is written atomically (model.json last), so a failed run changes nothing.
 */
export function convertModelFile(modelPath: string, outDir: string, to: 'sync' | 'plain',
                                 opts: ConvertFileOptions = {}): {modelJson: string; weights: string[]} {
  const modelJson = JSON.parse(readFileSync(modelPath, 'utf8')) as ModelJson;
  const converted = to === 'sync' ? toSyncBatchNormJSON(modelJson) : fromSyncBatchNormJSON(modelJson);
  const root = modelFolder(dirname(modelPath));
  mkdirSync(outDir, {recursive: true});
  const out = realpathSync(outDir);
  if (out === root && !opts.force) {
    throw new Error(`the output folder ${outDir} is the model's folder (${root}): converting would replace its ` +
                    'model.json; choose another folder, or pass --force to convert in place');
  }
  const weights = weightPaths(modelJson);
  // Everything is read (and checked) before anything is written.
  const files: OutputFile[] = weights.map((p) => ({path: p, data: readInside(root, p)}));
  files.push({path: 'model.json', data: JSON.stringify(converted)});
  writeFilesAtomically(out, files);
  return {modelJson: join(out, 'model.json'), weights};
}

function weightPaths(modelJson: ModelJson): string[] {
  const manifest = (modelJson as {weightsManifest?: unknown}).weightsManifest ?? [];
  if (!Array.isArray(manifest)) throw new Error(`'weightsManifest' of the model must be an array`);
  const paths = manifest.flatMap((g: {paths?: unknown}) => {
    if (!Array.isArray(g?.paths)) throw new Error(`every 'weightsManifest' entry needs a 'paths' array`);
    return g.paths as string[];
  });
  const rels = paths.map(safeRelative);
  if (rels.some((r) => r === 'model.json')) throw new Error(`a weight path may not be 'model.json'`);
  return [...new Set(rels)];
}
