import { isRecord } from '../rules/objects.js';

/**
 * Where an Ignition field sits, as users read it in their MachineConfig: `spec.config.storage.files[1].mode`;
 * `short` leaves out `spec.config.` for one-line warnings.
 */
export function fieldPath(pointer: string, short = false): string {
  let out = short ? '' : 'spec.config';
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(key) ? `[${key}]` : `.${key}`;
  }
  return short ? out.slice(1) : out;
}

/** `obj[key]` when it is an object, else an empty one: configs come from users, any member may be missing. */
export function member(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const value = obj[key];
  return isRecord(value) ? value : {};
}

export function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/** The value at a JSON pointer, or undefined. */
export function getPointer(root: unknown, pointer: string): unknown {
  let cursor = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cursor)) cursor = cursor[Number(key)];
    else if (isRecord(cursor)) cursor = cursor[key];
    else return undefined;
  }
  return cursor;
}

/** Removes the member at a JSON pointer, if its parent exists. */
export function deletePointer(root: unknown, pointer: string): void {
  const cut = pointer.lastIndexOf('/');
  const parent = getPointer(root, pointer.slice(0, cut));
  const key = pointer.slice(cut + 1).replace(/~1/g, '/').replace(/~0/g, '~');
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else if (isRecord(parent)) delete parent[key];
}

export function lastKey(pointer: string): string {
  return pointer.slice(pointer.lastIndexOf('/') + 1).replace(/~1/g, '/').replace(/~0/g, '~');
}

/** RFC 6901: `~` → `~0`, `/` → `~1` (an annotation key like `sctp-guard.io/x` in a patch path). */
export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
