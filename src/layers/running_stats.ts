/**
 * Running statistics for InstanceNormalization (PyTorch's `track_running_stats=True`): the
 * weights `moving_mean` / `moving_variance` ([C]) follow the batch mean of the per-instance
 * statistics with the Keras momentum convention, and inference normalizes with them. Kept apart
 * from the layer so the layer only forwards to it.
 */
import {add, mean as meanOf, mul, reshape, tidy, type Tensor} from '@tensorflow/tfjs-core';
import type {LayerVariable} from '@tensorflow/tfjs-layers';
import type {serialization} from '@tensorflow/tfjs-core';

export interface RunningStatsArgs {
  /** Keep `moving_mean` / `moving_variance` and normalize with them in inference. Default false. */
  trackRunningStats?: boolean;
  /** `moving = momentum · moving + (1 − momentum) · batch`. Default 0.99 (PyTorch's 0.1 is 0.9 here). */
  momentum?: number;
  /** Track the unbiased per-instance variance (PyTorch) instead of the biased one. Default false. */
  unbiasedMovingVariance?: boolean;
}

export const RUNNING_STATS_ARGS = ['trackRunningStats', 'momentum', 'unbiasedMovingVariance'];

type AddWeight = (name: string, shape: number[], init: string) => LayerVariable;

export class RunningStats {
  mean: LayerVariable | null = null;
  variance: LayerVariable | null = null;

  /** The running-statistics state of a layer, or null when `trackRunningStats` is off. */
  static from(layer: string, args: RunningStatsArgs): RunningStats | null {
    const {trackRunningStats, momentum, unbiasedMovingVariance} = args;
    if (trackRunningStats !== undefined && typeof trackRunningStats !== 'boolean') {
      throw new Error(`${layer}: 'trackRunningStats' must be true or false, got ${String(trackRunningStats)}`);
    }
    if (!trackRunningStats) {
      if (momentum !== undefined || unbiasedMovingVariance !== undefined) {
        throw new Error(`${layer}: 'momentum' and 'unbiasedMovingVariance' need 'trackRunningStats: true'`);
      }
      return null;
    }
    const m = momentum ?? 0.99;
    if (typeof m !== 'number' || !(m >= 0 && m <= 1)) throw new Error(`${layer}: 'momentum' must be in [0, 1], got ${String(momentum)}`);
    return new RunningStats(m, unbiasedMovingVariance ?? false);
  }

  private constructor(readonly momentum: number, readonly unbiased: boolean) {}

  build(addWeight: AddWeight, C: number): void {
    this.mean = addWeight('moving_mean', [C], 'zeros');
    this.variance = addWeight('moving_variance', [C], 'ones');
  }

  /** Blends in the batch mean of per-instance statistics (`[N·C]`, sample-major, biased variance). */
  update(instMean: Tensor, instVariance: Tensor, C: number, count: number): void {
    const m = this.momentum;
    tidy(() => {
      const batchMean = meanOf(reshape(instMean, [-1, C]), 0);
      let batchVar = meanOf(reshape(instVariance, [-1, C]), 0);
      if (this.unbiased && count > 1) batchVar = mul(batchVar, count / (count - 1));
      this.mean!.write(add(mul(this.mean!.read(), m), mul(batchMean, 1 - m)));
      this.variance!.write(add(mul(this.variance!.read(), m), mul(batchVar, 1 - m)));
    });
  }

  /** Config entries (none when off, so other configs stay unchanged). */
  static config(r: RunningStats | null): serialization.ConfigDict {
    return r === null ? {} : {trackRunningStats: true, momentum: r.momentum, unbiasedMovingVariance: r.unbiased};
  }
}
