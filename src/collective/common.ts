/** The collectives that run anywhere (no Node built-ins): both builds of `collective` export them. */
export {CollectiveError, SingleProcessTransport, type CollectiveTransport, type PendingAllReduce} from './transport.js';
export {CollectiveGroup, destroy, getDefaultGroup, init} from './group.js';
export {
  createThreadGroup, joinThreadGroup, type ThreadGroupHandle, type ThreadGroupOptions,
} from './thread_transport.js';
export {
  expandHostlist, rendezvousFromEnv, type Rendezvous, type RendezvousOptions, type RendezvousSource,
} from './env.js';
export {broadcastVariables, DistributedOptimizer, distributedOptimizer} from './distributed_optimizer.js';
