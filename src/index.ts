/**
 * tfjs-norms: normalization ops, kernels and gradients for TensorFlow.js (the Node build of the
 * main entry; bundlers targeting browsers get src/browser.ts through the `browser` condition).
 *
 * Importing this module registers the `cpu` kernels and every gradient. Import
 * `tfjs-norms/webgl` or `tfjs-norms/node` for the other backends.
 */
export * from './public_api.js';
export * as collective from './collective/index.js';
