/**
 * The browser build's `initFromEnv` and `TcpTransport`: TCP sockets and worker threads exist
 * only in Node, so these throw instead of pulling Node built-ins into a browser bundle.
 */
import type {CollectiveGroup} from './group.js';
import type {InitFromEnvOptions, TcpOptions} from './tcp_transport.js';
import {CollectiveError, type CollectiveTransport} from './transport.js';

function needsNode(what: string): CollectiveError {
  return new CollectiveError(`collective.${what} needs Node.js (TCP sockets and worker threads), but this is ` +
    "tfjs-norms' browser build (the bundler chose the 'browser' export condition). Run it under Node, or " +
    "import {initFromEnv, TcpTransport} from 'tfjs-norms/node' when your bundle targets Node. In browsers, " +
    'use collective.createThreadGroup / joinThreadGroup in Web Workers, or your own CollectiveTransport.');
}

export function initFromEnv(_opts?: InitFromEnvOptions): CollectiveGroup {
  throw needsNode('initFromEnv');
}

export class TcpTransport implements CollectiveTransport {
  readonly rank: number = 0;
  readonly worldSize: number = 1;

  constructor(_opts: TcpOptions) {
    throw needsNode('TcpTransport');
  }

  allReduceSum(_data: Float64Array): Float64Array {
    throw needsNode('TcpTransport');
  }

  close(): void {}
}
