/**
 * The computations behind the `tensorflow` kernels (kernels.ts, table in register_all.ts), in
 * modules: `layout` (the view of `x` the ops work on), `paths` (which TensorFlow ops serve which
 * view: docs/tensorflow.md has the measurements behind the choices), `statistics`, `forward`,
 * `backward`, `activations`. This module gathers what the kernels, tests and benchmarks use.
 *
 * Big tensors only go through TensorFlow ops; per-slot and per-channel vectors (a few hundred
 * values) are combined on the host in float64, which is exact and costs microseconds where each
 * extra TensorFlow op costs ~5–10 µs, so the ops work on `x`'s own shape whenever they can.
 *
 * Exactness (docs/kernels.md): statistics are shifted sums, never E[x²] − E[x]² with a mean far
 * from the shift.
 * - The reduction paths (`Sum` and `EuclideanNorm` over the slots' axes) run on raw `x` (shift 0)
 *   and keep the result when every slot's mean is within `RAW_SUMS_LIMIT` standard deviations of
 *   0; otherwise again on `d = x − shift` with each slot's first element as shift (data like
 *   1000 + 0.01·noise).
 * - `FusedBatchNormV3`/`FusedBatchNormGradV3` compute two-pass statistics themselves; their
 *   float32 mean is exact to ~1e-6·|mean|, so they run on raw `x` only when every slot's mean
 *   lies within `RAW_MEAN_LIMIT` standard deviations of zero (checked on their outputs), and on
 *   `d = x − shift` otherwise.
 *
 * Views:
 * - channel form (BatchNorm, InstanceNorm, GroupNorm with spatial axes; BatchNorm of rank 2):
 *   `x` itself (or `[N, C, S]` / `[N, S, C]` for unusual views) with per-(sample, channel)
 *   coefficients broadcast over the spatial axes; partial sums per (sample, channel) are merged
 *   into slots on the host.
 * - row-column form (per-sample slots without spatial axes: LayerNorm, GroupNorm of rank 2):
 *   `[N, G, cpg]`, per-slot coefficients `[N, G, 1]` and per-channel gamma/beta `[G, cpg]`;
 *   LayerNorm's forward apply is oneDNN's `_MklLayerNorm` where the build has it.
 * - `FusedBatchNorm*`: BatchNorm with channels last (`x`, or `[1, N·S, 1, C]`); on GPUs also
 *   channels first (`x`, or `[N, C, S, 1]`) and InstanceNorm with channels first as a batch
 *   norm over `[1, N·C, S, 1]` (TensorFlow's CPU kernels transpose channels-first input, so
 *   CPUs take the reductions there).
 */
export {affine, normLayout, type Affine, type NormLayout} from './layout.js';
export {activate} from './activations.js';
export {nativePathFlags, nativePaths, type NativePaths, RAW_MEAN_LIMIT, RAW_SUMS_LIMIT, rawStatisticsExact} from './paths.js';
export {moments, slotStats, type SlotStats, type StatsOutputs} from './statistics.js';
export {applyGiven, normalizeTraining, type TrainingForward} from './forward.js';
export {
  Backward, fusedBackwardTraining, type BackwardInputs, type BackwardSums, type DxRequest,
} from './backward.js';
