/**
 * Calls `callback` once, when `key` of `target` is next assigned: Jest decides parts of the run on the
 * results object after the reporters' onRunComplete (`success`, then `openHandles`), so the reporter learns
 * them at that assignment. The value is in place — a plain writable property again — before `callback` runs.
 * False, with nothing changed, when the property cannot be watched (not an own, configurable data property).
 */
export function onAssigned<T>(target: object, key: string, callback: (value: T) => void): boolean {
  const own = Object.getOwnPropertyDescriptor(target, key);
  if (!own?.configurable || !('value' in own)) return false;
  let value = own.value as T;
  Object.defineProperty(target, key, {
    configurable: true,
    enumerable: own.enumerable,
    get: () => value,
    set: (next: T) => {
      value = next;
      Object.defineProperty(target, key, {
        value: next,
        writable: true,
        enumerable: own.enumerable,
        configurable: true,
      });
      callback(next);
    },
  });
  return true;
}
