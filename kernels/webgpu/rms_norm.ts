/**
 * RMSNorm's webgpu kernels on the `[rows, D]` view (kernel_names.ts, `NormsRMSNorm`):
 *
 * - forward: a per-row reduction `invRms = (Σx²/D + ε)^-1/2` (rowScheme: one invocation per short
 *   row, else one workgroup per row with a tree), then `y = x·invRms·gamma` elementwise;
 * - backward: a per-row reduction `k = invRms³·Σ(dy·gamma·x)/D`, `dx = invRms·dy·gamma − x·k`
 *   elementwise, and `dgamma = Σ_rows dy·x·invRms` by columns in two stages (blocks of rows, then
 *   over the blocks), reading the `[rows, D]` matrix as it lies in memory.
 *
 * The elementwise programs take four elements per vector where `D % 4 == 0` (lanes.ts).
 * Memory traffic: forward 3S (S = x's size), backward 7S (the row sums and the column sums each
 * read x and dy; dx reads both and writes one).
 */
import type {TensorInfo} from '@tensorflow/tfjs-core';
import type {NormsRMSNormAttrs, NormsRMSNormGradInputs, NormsRMSNormInputs} from '../../src/kernel_names.js';
import {rmsView} from '../../src/norm_view.js';
import {FAST_DIV_LIMIT, FDIV_WGSL} from './lanes.js';
import {COLUMN_WORKGROUP, FLAT_WORKGROUP, rowBlocks, rowScheme} from './norm_programs.js';
import {dispose, runProgram, type ProgramSpec, type WebGPUBackendLike} from './program.js';

type Bindings = Array<[string, TensorInfo]>;

/** Per row `finish(t1)` of `Σ_j term(i, j)` (`i` the flat index, `j` the column). */
function rowProgram(b: WebGPUBackendLike, key: string, inputs: Bindings, rows: number, D: number, epsilon: number,
                    term: string, finish: string): TensorInfo {
  const k = rowScheme(rows, D, 1);
  return runProgram(b, {
    key: `rms_row_${key}${k.short ? '_short' : ''}`,
    inputs,
    outputSize: rows,
    dispatch: k.dispatch,
    uniforms: [['rows', 'i32', rows], ['D', 'i32', D], ['epsilon', 'f32', epsilon]],
    code: `${k.decl}
fn body(index : i32) {
  let row = ${k.row};
  let tid = ${k.tid};
  var s1 = 0.0;
  let s2 = 0.0;
  if (row < uniforms.rows) {
    let base = row * uniforms.D;
    for (var j = tid; j < uniforms.D; j = j + ${k.step}) {
      let i = base + j;
      s1 = s1 + ${term};
    }
  }
  ${k.combine}
  if (${k.first} && row < uniforms.rows) {
    result[row] = ${finish};
  }
}`,
  });
}

/** `value` (WGSL of `i` the flat index, `row`, `j` the column) over the `[rows, D]` view. */
function elementwiseProgram(b: WebGPUBackendLike, key: string, inputs: Bindings, vectors: string[], rows: number,
                            D: number, value: string): TensorInfo {
  const lanes = D % 4 === 0 && rows < FAST_DIV_LIMIT;
  const size = rows * D;
  const spec: Omit<ProgramSpec, 'code'> = {
    key: `rms_${key}${lanes ? '_v4' : ''}`,
    inputs,
    outputSize: size,
    dispatch: {flat: true, workgroup: FLAT_WORKGROUP, perInvocation: lanes ? 4 : 1},
    uniforms: [['rows', 'i32', rows], ['D', 'i32', D], ['rD4', 'f32', 4 / D]],
    ...(lanes ? {vec4Inputs: vectors} : {}),
  };
  // As vectors, `i` and `j` count vectors (a row is D/4 of them).
  const code = lanes ? `${FDIV_WGSL}
fn body(index : i32) {
  if (index < uniforms.size) {
    let i = index;
    let row = fdiv(index, uniforms.D / 4, uniforms.rD4);
    let j = index - row * (uniforms.D / 4);
    result[index] = ${value};
  }
}` : `
fn body(index : i32) {
  if (index < uniforms.size) {
    let i = index;
    let row = index / uniforms.D;
    let j = index - row * uniforms.D;
    result[index] = ${value};
  }
}`;
  return runProgram(b, {...spec, code});
}

export function rmsNormWebGPU(b: WebGPUBackendLike, {x, gamma}: NormsRMSNormInputs, a: NormsRMSNormAttrs): TensorInfo[] {
  const {rows, D} = rmsView(x.shape, a.axisCount);
  const inv = rowProgram(b, 'stats', [['x', x]], rows, D, a.epsilon, 'x[i] * x[i]',
    'inverseSqrt(t1 / f32(uniforms.D) + uniforms.epsilon)');
  const y = elementwiseProgram(b, 'apply', [['x', x], ['inv', inv], ['gamma', gamma]], ['x', 'gamma'], rows, D,
    'x[i] * inv[row] * gamma[j]');
  return [{...y, shape: x.shape}, {...inv, shape: [rows]}];
}

export function rmsNormGradWebGPU(b: WebGPUBackendLike, {dy, x, invRms, gamma}: NormsRMSNormGradInputs,
                                  a: NormsRMSNormAttrs): TensorInfo[] {
  const {rows, D} = rmsView(x.shape, a.axisCount);
  const k = rowProgram(b, 'grad', [['dy', dy], ['x', x], ['gamma', gamma], ['inv', invRms]], rows, D, a.epsilon,
    'dy[i] * gamma[j] * x[i]', 'inv[row] * inv[row] * inv[row] * t1 / f32(uniforms.D)');
  const dx = elementwiseProgram(b, 'dx', [['dy', dy], ['x', x], ['gamma', gamma], ['inv', invRms], ['k', k]],
    ['dy', 'x', 'gamma'], rows, D, 'dy[i] * gamma[j] * inv[row] - x[i] * k[row]');
  const partial = gammaPartialProgram(b, dy, x, invRms, rows, D);
  const dgamma = gammaFinishProgram(b, partial, rows, D);
  dispose(b, k, partial);
  return [{...dx, shape: x.shape}, {...dgamma, shape: gamma.shape}];
}

/**
 * `partial[block][j] = Σ dy·x·invRms` over one block of rows: a workgroup covers 64 adjacent
 * columns (adjacent addresses) of one block.
 */
function gammaPartialProgram(b: WebGPUBackendLike, dy: TensorInfo, x: TensorInfo, inv: TensorInfo, rows: number,
                             D: number): TensorInfo {
  const blocks = rowBlocks(rows);
  const columnBlocks = Math.ceil(D / COLUMN_WORKGROUP);
  return runProgram(b, {
    key: 'rms_gamma_partial',
    inputs: [['dy', dy], ['x', x], ['inv', inv]],
    outputSize: blocks * D,
    dispatch: {rows: columnBlocks * blocks, workgroup: COLUMN_WORKGROUP},
    uniforms: [['rows', 'i32', rows], ['D', 'i32', D], ['blocks', 'i32', blocks], ['columnBlocks', 'i32', columnBlocks]],
    code: `
fn body(index : i32) {
  let w = i32(workgroupId.z * numWorkgroups.x * numWorkgroups.y + workgroupId.y * numWorkgroups.x + workgroupId.x);
  let block = w / uniforms.columnBlocks;
  let j = (w % uniforms.columnBlocks) * ${COLUMN_WORKGROUP} + i32(localIndex);
  let chunk = (uniforms.rows + uniforms.blocks - 1) / uniforms.blocks;
  if (j < uniforms.D && block < uniforms.blocks) {
    var s = 0.0;
    for (var r = block * chunk; r < min(uniforms.rows, (block + 1) * chunk); r++) {
      let i = r * uniforms.D + j;
      s = s + dy[i] * x[i] * inv[r];
    }
    result[block * uniforms.D + j] = s;
  }
}`,
  });
}

function gammaFinishProgram(b: WebGPUBackendLike, partial: TensorInfo, rows: number, D: number): TensorInfo {
  return runProgram(b, {
    key: 'rms_gamma_finish',
    inputs: [['partial', partial]],
    outputSize: D,
    dispatch: {flat: true, workgroup: 64},
    uniforms: [['D', 'i32', D], ['blocks', 'i32', rowBlocks(rows)]],
    code: `
fn body(index : i32) {
  if (index < uniforms.D) {
    var s = 0.0;
    for (var k = 0; k < uniforms.blocks; k++) { s = s + partial[k * uniforms.D + index]; }
    result[index] = s;
  }
}`,
  });
}
