/** `collective` in Node: everything, including the TCP transport across processes and hosts. */
export * from './common.js';
export {initFromEnv, TcpTransport, type InitFromEnvOptions, type TcpOptions} from './tcp_transport.js';
