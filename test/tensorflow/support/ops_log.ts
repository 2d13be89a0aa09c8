/**
 * Records which TensorFlow ops the tfjs-node binding executes while `f` runs, by putting a
 * recording wrapper in place of the backend's binding for the call.
 */
import {tf} from './tfnode.js';

interface Binding {executeOp: (name: string, ...rest: unknown[]) => unknown}

export function opsRun<T>(f: () => T): {result: T; ops: string[]} {
  const backend = tf.backend() as unknown as {binding: Binding};
  const original = backend.binding;
  const ops: string[] = [];
  const recording = Object.create(original) as Binding;
  Object.defineProperty(recording, 'executeOp', {
    value: (name: string, ...rest: unknown[]) => {
      ops.push(name);
      return (original.executeOp as (...a: unknown[]) => unknown).call(original, name, ...rest);
    },
  });
  backend.binding = recording;
  try {
    return {result: f(), ops};
  } finally {
    backend.binding = original;
  }
}
