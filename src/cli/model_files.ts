/**
 * Layers models in a folder (model.json + weight files, the format of tfjs-node's `file://`),
 * for the command line and for Node programs without tfjs-node.
 */
import {copyFileSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {dirname, isAbsolute, join, normalize, sep} from 'node:path';
import {io} from '@tensorflow/tfjs-core';

/** An IOHandler that saves to `dir/model.json` and `dir/weights.bin`. */
export function folderSaveHandler(dir: string): io.IOHandler {
  return io.withSaveHandler(async (artifacts) => {
    mkdirSync(dir, {recursive: true});
    const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0)
      : io.concatenateArrayBuffers(Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData]);
    const modelJson: io.ModelJSON = {
      modelTopology: artifacts.modelTopology as object,
      format: artifacts.format, generatedBy: artifacts.generatedBy, convertedBy: artifacts.convertedBy,
      weightsManifest: [{paths: ['weights.bin'], weights: artifacts.weightSpecs ?? []}],
      ...(artifacts.trainingConfig ? {trainingConfig: artifacts.trainingConfig} : {}),
    };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
    writeFileSync(join(dir, 'weights.bin'), Buffer.from(weightData));
    return {modelArtifactsInfo: io.getModelArtifactsInfoForJSON(artifacts)};
  });
}

/** An IOHandler that loads `dir/model.json` and its weight files. */
export function folderLoadHandler(dir: string): io.IOHandler {
  return {
    load: async () => {
      const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as io.ModelJSON;
      return io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs = manifest.flatMap((g) => g.weights);
        const buffers = manifest.flatMap((g) => g.paths.map((p) => {
          const b = readFileSync(join(dir, safeRelative(p)));
          return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
        }));
        return [specs, io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

/** A weight path from a manifest, refused if it would leave the model's folder. */
export function safeRelative(path: string): string {
  const n = normalize(path);
  if (isAbsolute(n) || n === '..' || n.startsWith(`..${sep}`)) {
    throw new Error(`weight path '${path}' leaves the model's folder`);
  }
  return n;
}

/** Copies the weight files a model.json lists from `fromDir` to `toDir`. */
export function copyWeightFiles(modelJson: {weightsManifest?: Array<{paths: string[]}>}, fromDir: string, toDir: string): string[] {
  const copied: string[] = [];
  for (const group of modelJson.weightsManifest ?? []) {
    for (const p of group.paths) {
      const rel = safeRelative(p);
      mkdirSync(dirname(join(toDir, rel)), {recursive: true});
      copyFileSync(join(fromDir, rel), join(toDir, rel));
      copied.push(rel);
    }
  }
  return copied;
}
