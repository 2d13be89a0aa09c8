/**
 * The in-browser side of the webgl inplaceABN / sparseBatchNorm suite: the PyTorch fixtures
 * through both ops on webgl (values and gradients), the release of `x` by `inPlace: true`,
 * and leaks, as test/ops/inplace_abn.test.ts and sparse_batch_norm.test.ts do on cpu.
 */
import '../../src/webgl.js';
import {abnChecks, abnFixtures, sparseFixtures} from '../support/abn_sparse_checks.js';
import {startWebgl} from './guard.js';

const api = {setup: startWebgl, abnFixtures, sparseFixtures, abnChecks};

declare global {
  interface Window {
    abnSparseTest: typeof api;
  }
}

window.abnSparseTest = api;
