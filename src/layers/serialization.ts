/**
 * Initializers, regularizers and constraints from the identifiers tfjs-layers accepts (a name
 * such as 'zeros' or 'l1l2', an instance, or a serialized `{className, config}`), and back, via
 * the public serialization registry (tfjs-layers' own helpers are not exported).
 */
import {serialization} from '@tensorflow/tfjs-core';

export type Identifier = string | serialization.Serializable | serialization.ConfigDict | null | undefined;

// Names whose class name is not the name with a capital first letter.
const SPECIAL: Record<string, string> = {l1l2: 'L1L2', l1: 'L1L2', l2: 'L1L2'};

function isSerializable(x: unknown): x is serialization.Serializable {
  return typeof x === 'object' && x !== null && typeof (x as {getClassName?: unknown}).getClassName === 'function';
}

/** Resolves an identifier to an instance (null stays null). */
export function resolve<T extends serialization.Serializable>(id: Identifier, kind: string): T | null {
  if (id === null || id === undefined) return null;
  if (isSerializable(id)) return id as T;
  let className: string;
  let config: serialization.ConfigDict = {};
  if (typeof id === 'string') {
    className = SPECIAL[id] ?? id.charAt(0).toUpperCase() + id.slice(1);
    if (id === 'l1') config = {l1: 0.01, l2: 0};
    if (id === 'l2') config = {l1: 0, l2: 0.01};
  } else {
    const dict = id as {className?: string; class_name?: string; config?: serialization.ConfigDict};
    className = dict.className ?? dict.class_name ?? '';
    config = dict.config ?? {};
  }
  const entry = serialization.SerializationMap.getMap().classNameMap[className];
  if (entry === undefined) throw new Error(`Unknown ${kind}: ${JSON.stringify(id)}`);
  const [cls, fromConfig] = entry;
  return fromConfig(cls, config) as T;
}

/** `{className, config}` of an instance, or null. */
export function serialize(x: serialization.Serializable | null): serialization.ConfigDict | null {
  return x === null ? null : {className: x.getClassName(), config: x.getConfig()};
}
