/**
 * The loops beneath the typed-array kernels (norm_kernels.ts, rms_norm.ts), as one table: the
 * JavaScript loops here, and a backend may give its own build of the same functions through
 * `KernelIO.loops` (the wasm backend's SIMD build: kernels/wasm/simd_loops.ts). Every
 * implementation has these signatures and these results (within float32 rounding).
 */
import {apply, backwardApply, backwardReduce, moments} from './norm_loops.js';
import {rmsNormBackward, rmsNormForward} from './rms_norm_loops.js';
import {applySlots, normalizeSlots, slotMoments} from './slot_loops.js';

export const JS_LOOPS = {
  moments, slotMoments, apply, applySlots, normalizeSlots, backwardReduce, backwardApply, rmsNormForward,
  rmsNormBackward,
};

export type NormLoops = typeof JS_LOOPS;
