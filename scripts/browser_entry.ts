// The browser bundle: the package's browser API (src/browser.ts) plus the webgl kernels.
export * from '../src/browser.js';
import '../src/webgl.js';
