/**
 * The webgl kernels' path where the fused programs cannot run (no float32 render targets: half-
 * float textures would overflow or round the partial sums; no WebGL 2; empty inputs): the
 * composite kernels of kernels/composite/ on the webgl backend's own kernels. Same contract, same
 * exact-mean handling; precision is that of the context's textures.
 */
import type {TensorInfo} from '@tensorflow/tfjs-core';
import type {NormApplyAttrs} from '../../src/kernel_names.js';
import {
  applyComposite, backwardApplyComposite, backwardReduceComposite, backwardTrainingComposite, momentsComposite,
  normalizeTrainingComposite, type BackwardInputs,
} from '../composite/norm_composite.js';
import type {WebGLBackend} from './backend_util.js';

type Composite<I, A, O> = (b: WebGLBackend, backendName: string, inputs: I, attrs: A) => O;

function onWebGL<I, A, O>(f: Composite<I, A, O>): (b: WebGLBackend, inputs: I, attrs: A) => O {
  return (b, inputs, attrs) => f(b, 'webgl', inputs, attrs);
}

export const momentsFallback = onWebGL(momentsComposite);
export const normalizeTrainingFallback = onWebGL(normalizeTrainingComposite);
export const applyFallback = onWebGL(applyComposite);
export const backwardReduceFallback = onWebGL<BackwardInputs, NormApplyAttrs, TensorInfo[]>(backwardReduceComposite);
export const backwardApplyFallback = onWebGL(backwardApplyComposite);
export const backwardTrainingFallback = onWebGL<BackwardInputs, NormApplyAttrs, TensorInfo[]>(backwardTrainingComposite);
