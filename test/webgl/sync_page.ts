/**
 * The cross-origin-isolated sync page: its main thread only orchestrates (Atomics.wait is not
 * allowed there). It creates a thread group over SharedArrayBuffer, starts one Web Worker rank
 * (sync_worker.js) per member, and relays tasks and replies; the ranks block on each other in
 * the collectives.
 */
import {createThreadGroup} from '../../src/collective/index.js';
import type {RankEnv, RankReply, RankTask} from './sync_protocol.js';

/** A worker that does not answer within this time is reported as hung (the group fails first). */
const REPLY_TIMEOUT_MS = 90_000;

let workers: Worker[] = [];

function next<R>(w: Worker, rank: number, fail: (error: string) => R): Promise<R> {
  return new Promise((resolve) => {
    const done = (r: R) => {
      clearTimeout(timer);
      w.removeEventListener('message', onMessage);
      w.removeEventListener('error', onError);
      resolve(r);
    };
    const onMessage = (e: MessageEvent) => done(e.data as R);
    const onError = (e: ErrorEvent) => { e.preventDefault(); done(fail(`rank ${rank} worker error: ${e.message}`)); };
    const timer = setTimeout(() => done(fail(`rank ${rank} did not answer within ${REPLY_TIMEOUT_MS} ms`)), REPLY_TIMEOUT_MS);
    w.addEventListener('message', onMessage);
    w.addEventListener('error', onError);
  });
}

/** Starts `world` worker ranks in a new thread group; resolves with each rank's environment. */
async function start(world: number, timeoutMs: number): Promise<RankEnv[]> {
  stop();
  const handle = createThreadGroup(world, {timeoutMs});
  workers = Array.from({length: world}, () => new Worker('sync_worker.js'));
  return Promise.all(workers.map((w, rank) => {
    const reply = next<RankEnv>(w, rank, (error) => ({rank, backend: 'none', webglVersion: 0, float32Enabled: false,
      offscreenCanvas: false, crossOriginIsolated: false, error}));
    w.postMessage({type: 'init', handle, rank});
    return reply;
  }));
}

/** Sends `tasks[rank]` to each rank and waits for every reply. */
function run(tasks: RankTask[]): Promise<RankReply[]> {
  if (tasks.length !== workers.length) throw new Error(`${tasks.length} tasks for ${workers.length} ranks`);
  return Promise.all(workers.map((w, rank) => {
    const reply = next<RankReply>(w, rank, (error) => ({ok: false, rank, error}));
    w.postMessage({type: 'task', task: tasks[rank]});
    return reply;
  }));
}

function stop(): void {
  workers.forEach((w) => w.terminate());
  workers = [];
}

const api = {
  crossOriginIsolated: () => crossOriginIsolated,
  start, run, stop,
};

declare global {
  interface Window {
    syncTest: typeof api;
  }
}

window.syncTest = api;
