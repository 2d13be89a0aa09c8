/**
 * Layers models in a folder (model.json + weight files, the format of tfjs-node's `file://`),
 * for the command line and for Node programs without tfjs-node.
 *
 * A model folder may come from anyone: every file read from it must really lie inside it (no
 * `..`, absolute paths or symlinks leading out) and be a regular file. Every file written goes to
 * a temporary file beside its target and is renamed over it once all of them are complete, so an
 * interrupted run leaves the previous files intact.
 */
import {closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readlinkSync, realpathSync,
  renameSync, unlinkSync, writeFileSync} from 'node:fs';
import {randomBytes} from 'node:crypto';
import {basename, dirname, isAbsolute, join, normalize, relative, sep} from 'node:path';
import {io} from '@tensorflow/tfjs-core';

/** An IOHandler that saves to `dir/model.json` and `dir/weights.bin`. */
export function folderSaveHandler(dir: string): io.IOHandler {
  return io.withSaveHandler(async (artifacts) => {
    const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0)
      : io.concatenateArrayBuffers(Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData]);
    const modelJson: io.ModelJSON = {
      modelTopology: artifacts.modelTopology as object,
      format: artifacts.format, generatedBy: artifacts.generatedBy, convertedBy: artifacts.convertedBy,
      weightsManifest: [{paths: ['weights.bin'], weights: artifacts.weightSpecs ?? []}],
      ...(artifacts.trainingConfig ? {trainingConfig: artifacts.trainingConfig} : {}),
    };
    writeFilesAtomically(dir, [
      {path: 'weights.bin', data: Buffer.from(weightData)},
      {path: 'model.json', data: JSON.stringify(modelJson)},
    ]);
    return {modelArtifactsInfo: io.getModelArtifactsInfoForJSON(artifacts)};
  });
}

/** An IOHandler that loads `dir/model.json` and its weight files (all inside `dir`). */
export function folderLoadHandler(dir: string): io.IOHandler {
  return {
    load: async () => {
      const root = modelFolder(dir);
      const modelJson = JSON.parse(readInside(root, 'model.json').toString('utf8')) as io.ModelJSON;
      return io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs = manifest.flatMap((g) => g.weights);
        const buffers = manifest.flatMap((g) => g.paths.map((p) => {
          const b = readInside(root, p);
          return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
        }));
        return [specs, io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}

/** A weight path from a manifest, refused if it would leave the model's folder. */
export function safeRelative(path: string): string {
  if (typeof path !== 'string' || path === '') throw new Error(`weight path ${JSON.stringify(path)} is not a file name`);
  const n = normalize(path);
  if (isAbsolute(n) || n === '..' || n.startsWith(`..${sep}`) || n === '.') {
    throw new Error(`weight path '${path}' leaves the model's folder`);
  }
  return n;
}

/** The real path of a model folder (symlinks resolved), the root every read must stay in. */
export function modelFolder(dir: string): string {
  return realpathSync(dir);
}

function inside(root: string, real: string): boolean {
  const r = relative(root, real);
  return r !== '' && r !== '..' && !r.startsWith(`..${sep}`) && !isAbsolute(r);
}

/**
 * Reads `rel` (a manifest path) from the model folder whose real path is `root`: refused when its
 * real path leaves `root` or it is not a regular file (a FIFO or device could block or never end).
 */
export function readInside(root: string, rel: string): Buffer {
  const path = join(root, safeRelative(rel));
  let real: string;
  try {
    real = realpathSync(path);
  } catch (e) {
    throw new Error(`weight file '${rel}' of the model in ${root} cannot be read: ${(e as Error).message}`);
  }
  if (!inside(root, real)) {
    throw new Error(`weight file '${rel}' resolves to ${real}, outside the model's folder ${root}: refused`);
  }
  // O_NOFOLLOW and the descriptor's own path (Linux) close the gap between the check and the open.
  const fd = openSync(real, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  try {
    if (existsSync('/proc/self/fd')) {
      const opened = readlinkSync(`/proc/self/fd/${fd}`);
      if (!inside(root, opened)) throw new Error(`weight file '${rel}' moved outside the model's folder ${root}: refused`);
    }
    if (!fstatSync(fd).isFile()) throw new Error(`weight file '${rel}' of the model in ${root} is not a regular file: refused`);
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** One output of {@link writeFilesAtomically}: a path relative to the folder and its content. */
export interface OutputFile {
  path: string;
  data: string | Uint8Array;
}

/**
 * Writes `files` into `dir` (created if needed): each to a fresh temporary file in its target's
 * folder, and only once every one is written, renames them over their targets in order (put the
 * file that refers to the others, model.json, last). A failure before the renames leaves every
 * old file as it was; temporary files are removed. A target that is a symlink is replaced, never
 * written through, and no target's folder may resolve outside `dir`.
 */
export function writeFilesAtomically(dir: string, files: readonly OutputFile[],
                                     write: (tmp: string, data: string | Uint8Array) => void = writeExclusive): string[] {
  mkdirSync(dir, {recursive: true});
  const root = realpathSync(dir);
  const pending: Array<{tmp: string; target: string}> = [];
  try {
    for (const f of files) {
      const rel = safeRelative(f.path);
      const folder = dirname(join(root, rel));
      mkdirSync(folder, {recursive: true});
      const realFolder = realpathSync(folder);
      if (realFolder !== root && !inside(root, realFolder)) {
        throw new Error(`output '${f.path}' would be written to ${realFolder}, outside the output folder ${root}: refused`);
      }
      const target = join(realFolder, basename(rel));
      const tmp = join(realFolder, `.${basename(rel)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
      pending.push({tmp, target});
      write(tmp, f.data);
    }
    for (const p of pending) {
      try {
        renameSync(p.tmp, p.target);
      } catch (e) {
        throw new Error(`cannot replace ${p.target}: ${(e as Error).message}`);
      }
      p.tmp = '';
    }
  } finally {
    for (const p of pending) {
      if (p.tmp) try { unlinkSync(p.tmp); } catch { /* never created */ }
    }
  }
  return pending.map((p) => p.target);
}

/** Creates `tmp` (never an existing file or symlink) with `data`. */
function writeExclusive(tmp: string, data: string | Uint8Array): void {
  writeFileSync(tmp, data, {flag: 'wx', mode: 0o644});
}
