/**
 * Argument checks shared by the ops. Every message names the op and the argument.
 */
import {tensor, type Tensor, type TensorLike} from '@tensorflow/tfjs-core';
import {NORM_ACTIVATIONS, type NormActivation} from '../kernel_names.js';
import type {DataFormat} from './types.js';

/** A value as the caller or a model file gave it, for messages (`[3]`, `"3"`, `Infinity`). */
export function shown(v: unknown): string {
  return typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v);
}

export function fail(op: string, message: string): never {
  throw new Error(`${op}: ${message}`);
}

function isTensor(t: unknown): t is Tensor {
  return typeof t === 'object' && t !== null && 'dataId' in t && 'shape' in t && 'dtype' in t;
}

/** Accepts a float32 tensor (or nested arrays, converted to float32) of the given ranks. */
export function floatInput(op: string, name: string, x: Tensor | TensorLike,
                           minRank = 2, maxRank = 5): Tensor {
  if (x == null) fail(op, `'${name}' is required`);
  const t = isTensor(x) ? x : tensor(x as TensorLike, undefined, 'float32');
  if (t.isDisposed) fail(op, `'${name}' is disposed`);
  if (t.dtype !== 'float32') fail(op, `'${name}' must be a float32 tensor, got ${t.dtype}`);
  if (t.rank < minRank || t.rank > maxRank) {
    fail(op, `'${name}' must have rank ${minRank} to ${maxRank}, got shape [${t.shape}] (rank ${t.rank})`);
  }
  return t;
}

/** Checks a parameter tensor's dtype and shape, e.g. gamma of shape `[C]`. */
export function paramInput(op: string, name: string, t: Tensor | undefined,
                           shape: readonly number[], what: string): Tensor | undefined {
  if (t === undefined || t === null) return undefined;
  if (!isTensor(t)) fail(op, `'${name}' must be a tensor`);
  if (t.isDisposed) fail(op, `'${name}' is disposed`);
  if (t.dtype !== 'float32') fail(op, `'${name}' must be a float32 tensor, got ${t.dtype}`);
  let ok = t.shape.length === shape.length;
  for (let i = 0; ok && i < shape.length; i++) ok = t.shape[i] === shape[i];
  if (!ok) fail(op, `'${name}' must have shape [${shape}] (${what}), got [${t.shape}]`);
  return t;
}

export function checkOptions(op: string, opts: object | undefined, allowed: readonly string[]): void {
  if (opts === undefined) return;
  if (typeof opts !== 'object' || opts === null) fail(op, `options must be an object, got ${String(opts)}`);
  for (const key of Object.keys(opts)) {
    if (!allowed.includes(key)) fail(op, `unknown option '${key}' (allowed: ${allowed.join(', ')})`);
  }
}

/** `epsilon` of an op or layer (ops default to 1e-5, tf.layers to 1e-3). */
export function checkEpsilon(op: string, epsilon: unknown, fallback = 1e-5): number {
  if (epsilon === undefined) return fallback;
  if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon < 0) {
    fail(op, `'epsilon' must be a finite number >= 0, got ${shown(epsilon)}`);
  }
  return epsilon;
}

/** A true/false option such as a layer's `center`. */
export function checkBoolean(op: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') fail(op, `'${name}' must be true or false, got ${shown(value)}`);
  return value;
}

export function checkDataFormat(op: string, dataFormat: unknown): DataFormat {
  if (dataFormat === undefined) return 'NHWC';
  if (dataFormat !== 'NHWC' && dataFormat !== 'NCHW') {
    fail(op, `'dataFormat' must be 'NHWC' or 'NCHW', got ${JSON.stringify(dataFormat)}`);
  }
  return dataFormat;
}

export function checkActivation(op: string, activation: unknown, alpha: unknown,
                                allowed: readonly NormActivation[] = NORM_ACTIVATIONS):
    {activation: NormActivation; alpha: number} {
  const act = (activation === undefined ? 'linear' : activation) as NormActivation;
  if (!allowed.includes(act)) {
    fail(op, `'activation' must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(activation)}`);
  }
  if (alpha !== undefined && (typeof alpha !== 'number' || !Number.isFinite(alpha))) {
    fail(op, `'alpha' must be a finite number, got ${shown(alpha)}`);
  }
  const defaultAlpha = act === 'leakyRelu' ? 0.01 : act === 'elu' ? 1 : 0;
  return {activation: act, alpha: alpha === undefined ? defaultAlpha : alpha};
}

/** The channel axis of a rank-2..5 input: rank 2 is `[N, C]` in both formats. */
export function channelAxis(rank: number, dataFormat: DataFormat): number {
  return dataFormat === 'NCHW' ? 1 : rank - 1;
}
