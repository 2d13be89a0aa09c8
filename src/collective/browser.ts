/** `collective` in browsers: the TCP transport is replaced by stand-ins that throw a clear error. */
export * from './common.js';
export {initFromEnv, TcpTransport} from './tcp_unavailable.js';
export type {InitFromEnvOptions, TcpOptions} from './tcp_transport.js';
