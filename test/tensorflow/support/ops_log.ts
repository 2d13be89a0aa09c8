/**
 * Records which TensorFlow ops the tfjs-node binding executes while `f` runs, by putting a
 * recording wrapper in place of the backend's binding for the call (the binding's methods are
 * read-only). Also used by the benchmarks (bench/ort/cases.ts, bench/sections/tensorflow_ops.ts)
 * to count and time the ops per call.
 */
import {backend as activeBackend} from '@tensorflow/tfjs-core';

type ExecuteOp = (name: string, ...rest: unknown[]) => Array<{shape: number[]}>;
interface Binding {executeOp: ExecuteOp}

export interface TimedOp {
  name: string;
  /** Shape of the op's first output. */
  shape: number[];
  /** Wall time of the binding's `executeOp` call. */
  ms: number;
}

/** Every op `f` runs, with its first output's shape and its wall time. */
export function opsTimed<T>(f: () => T): {result: T; ops: TimedOp[]} {
  const backend = activeBackend() as unknown as {binding: Binding};
  const original = backend.binding;
  const ops: TimedOp[] = [];
  const recording = Object.create(original) as Binding;
  Object.defineProperty(recording, 'executeOp', {
    value: (name: string, ...rest: unknown[]) => {
      const t0 = performance.now();
      const out = original.executeOp.call(original, name, ...rest);
      ops.push({name, shape: out[0]?.shape ?? [], ms: performance.now() - t0});
      return out;
    },
  });
  backend.binding = recording;
  try {
    return {result: f(), ops};
  } finally {
    backend.binding = original;
  }
}

/** The names of the ops `f` runs, in order. */
export function opsRun<T>(f: () => T): {result: T; ops: string[]} {
  const {result, ops} = opsTimed(f);
  return {result, ops: ops.map((o) => o.name)};
}
