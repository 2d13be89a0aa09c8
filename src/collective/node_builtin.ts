/**
 * Node built-ins loaded at run time, so that the package's main entry (also bundled for
 * browsers) has no static import of Node-only modules.
 */
declare const require: ((id: string) => unknown) | undefined;

export function nodeBuiltin<T>(name: string, feature: string): T {
  const proc = (globalThis as {process?: {getBuiltinModule?: (id: string) => unknown}}).process;
  const mod = proc?.getBuiltinModule?.(name) ?? (typeof require === 'function' ? require(name) : undefined);
  if (mod === undefined) throw new Error(`${feature} needs Node.js (module '${name}' is not available here)`);
  return mod as T;
}
