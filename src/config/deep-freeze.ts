// Freezes a parsed value and everything inside it, so a loaded config or profile cannot be changed by
// the code that reads it (a config swap builds a new one instead).

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
