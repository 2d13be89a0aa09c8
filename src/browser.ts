/**
 * tfjs-norms for browsers (the `browser` export condition of the main entry): the same API as
 * src/index.ts, but `collective.initFromEnv` and `collective.TcpTransport` throw, so that no
 * Node built-in (sockets, worker_threads) is reachable from a browser bundle. Thread groups
 * (SharedArrayBuffer + Atomics, in Web Workers) work as in Node.
 */
export * from './public_api.js';
export * as collective from './collective/browser.js';
