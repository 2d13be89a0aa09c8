// The browser bundle: the package's browser API (src/browser.ts) plus the webgl and webgpu kernels.
// Kernels are registered by backend name, so the webgpu ones wait for tfjs-backend-webgpu's bundle if
// the page loads it (they import nothing from it at run time); one bundle serves every backend present.
export * from '../src/browser.js';
import '../src/webgl.js';
import '../src/webgpu.js';
