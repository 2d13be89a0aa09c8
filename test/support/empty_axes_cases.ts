/** Inputs whose statistics would cover zero elements: every backend refuses them the same way. */
import type {Tensor} from '@tensorflow/tfjs-core';
import {groupNorm, layerNorm} from '../../src/index.js';

export const emptyAxesCases: Array<[string, {shape: number[]; op: (x: Tensor) => unknown}, RegExp]> = [
  ['layerNorm over an empty last axis', {shape: [2, 4, 0], op: (x) => layerNorm(x)},
    /^layerNorm: 'x' of shape \[2,4,0\] leaves nothing to normalize over: each mean and variance would cover 0 elements$/],
  ['layerNorm over two axes, one empty', {shape: [2, 0, 4], op: (x) => layerNorm(x, {axes: [-2, -1]})},
    /^layerNorm: 'x' of shape \[2,0,4\] leaves nothing to normalize over/],
  ['groupNorm with an empty spatial axis', {shape: [2, 0, 4], op: (x) => groupNorm(x, {groups: 2})},
    /^groupNorm: 'x' of shape \[2,0,4\] leaves nothing to normalize over/],
];
