// The browser bundle: the package's API plus the webgl kernels.
export * from '../src/index.js';
import '../src/webgl.js';
