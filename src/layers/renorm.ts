/**
 * Keras's Batch Renormalization for the BatchNormalization layer (`renorm`, `renormClipping`,
 * `renormMomentum`): the weights `renorm_mean` (init 0) and `renorm_stddev` (init 1), the op
 * options of a training step, and their moving-average update. Kept apart from the layer so
 * the layer only forwards to it.
 */
import {add, maximum, mul, sqrt, tidy, type Tensor, type Tensor1D, type serialization} from '@tensorflow/tfjs-core';
import type {LayerVariable} from '@tensorflow/tfjs-layers';
import type {RenormOptions} from '../ops/types.js';

/** Keras's `renorm_clipping`: missing `rmax`, `rmin`, `dmax` are `Infinity`, 0, `Infinity`. */
export interface RenormClipping {
  rmax?: number;
  rmin?: number;
  dmax?: number;
}

export interface RenormArgs {
  /** Batch Renormalization in training. Default false. */
  renorm?: boolean;
  /** Clipping of `r` to `[rmin, rmax]` and `d` to `[−dmax, dmax]` (Keras defaults: none). */
  renormClipping?: RenormClipping | null;
  /** Momentum of `renorm_mean` / `renorm_stddev` (Keras convention). Default 0.99. */
  renormMomentum?: number;
}

export const RENORM_ARGS = ['renorm', 'renormClipping', 'renormMomentum'];

type AddWeight = (name: string, shape: number[], init: string) => LayerVariable;

function limit(layer: string, key: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0) {
    throw new Error(`${layer}: 'renormClipping.${key}' must be a number >= 0, got ${String(v)}`);
  }
  return v;
}

export class Renorm {
  readonly clipping: RenormClipping;
  readonly momentum: number;
  private mean: LayerVariable | null = null;
  private stddev: LayerVariable | null = null;

  /** The renorm state of a layer, or null when `renorm` is off. */
  static from(layer: string, args: RenormArgs): Renorm | null {
    if (args.renorm !== undefined && typeof args.renorm !== 'boolean') {
      throw new Error(`${layer}: 'renorm' must be true or false, got ${String(args.renorm)}`);
    }
    if (!args.renorm) {
      if (args.renormClipping != null || args.renormMomentum !== undefined) {
        throw new Error(`${layer}: 'renormClipping' and 'renormMomentum' need 'renorm: true'`);
      }
      return null;
    }
    return new Renorm(layer, args.renormClipping ?? {}, args.renormMomentum ?? 0.99);
  }

  private constructor(layer: string, clipping: RenormClipping, momentum: unknown) {
    if (typeof clipping !== 'object') throw new Error(`${layer}: 'renormClipping' must be an object`);
    for (const k of Object.keys(clipping)) {
      if (!['rmax', 'rmin', 'dmax'].includes(k)) {
        throw new Error(`${layer}: unknown key '${k}' in 'renormClipping' (allowed: rmax, rmin, dmax)`);
      }
    }
    const c = {rmax: limit(layer, 'rmax', clipping.rmax), rmin: limit(layer, 'rmin', clipping.rmin),
      dmax: limit(layer, 'dmax', clipping.dmax)};
    this.clipping = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));
    if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) {
      throw new Error(`${layer}: 'renormMomentum' must be in [0, 1], got ${String(momentum)}`);
    }
    this.momentum = momentum;
  }

  build(addWeight: AddWeight, C: number): void {
    this.mean = addWeight('renorm_mean', [C], 'zeros');
    this.stddev = addWeight('renorm_stddev', [C], 'ones');
  }

  /** The `renorm` op option of a training step (Keras floors the stddev at sqrt(epsilon)). */
  options(epsilon: number): RenormOptions {
    return {
      mean: this.mean!.read() as Tensor1D,
      stddev: maximum(this.stddev!.read(), Math.sqrt(epsilon)) as Tensor1D,
      rMax: this.clipping.rmax ?? Infinity,
      rMin: this.clipping.rmin ?? 0,
      dMax: this.clipping.dmax ?? Infinity,
    };
  }

  /** `renorm_mean ← m·renorm_mean + (1−m)·μ_B`, `renorm_stddev ← m·renorm_stddev + (1−m)·σ_B`. */
  update(mean: Tensor, variance: Tensor, epsilon: number): void {
    const m = this.momentum;
    tidy(() => {
      this.mean!.write(add(mul(this.mean!.read(), m), mul(mean, 1 - m)));
      this.stddev!.write(add(mul(this.stddev!.read(), m), mul(sqrt(add(variance, epsilon)), 1 - m)));
    });
  }

  /** Config entries (none when off, so plain layers' configs stay as tfjs-layers writes them). */
  static config(r: Renorm | null): serialization.ConfigDict {
    return r === null ? {}
      : {renorm: true, renormClipping: {...r.clipping} as serialization.ConfigDict, renormMomentum: r.momentum};
  }
}
