/**
 * Records which TensorFlow ops the tfjs-node binding executes while `f` runs, by putting a
 * recording wrapper in place of the backend's binding for the call (the binding's methods are
 * read-only). Also used by the ONNX Runtime benchmark (bench/ort/cases.ts) to count ops per call.
 */
import {backend as activeBackend} from '@tensorflow/tfjs-core';

interface Binding {executeOp: (name: string, ...rest: unknown[]) => unknown}

export function opsRun<T>(f: () => T): {result: T; ops: string[]} {
  const backend = activeBackend() as unknown as {binding: Binding};
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
