/** Readers for JSON values that come from users: every member may be anything. */

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The objects of an array, or none when it is not one. */
export function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/** `obj[key]` when it is an object, else an empty one. */
export function member(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = obj[key];
  return isRecord(value) ? value : {};
}

/**
 * `obj[key]` only when it is the object's own: a label or annotation key the user chose (`constructor`,
 * `__proto__`) must not find what every object inherits.
 */
export function own<T>(obj: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}
