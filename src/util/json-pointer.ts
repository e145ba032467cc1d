import { isRecord } from './json.js';

/** RFC 6901: `~` → `~0`, `/` → `~1` (an annotation key like `sctp-guard.io/x` in a patch path). */
export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** RFC 6901, the other way: `~1` → `/`, then `~0` → `~`. */
export function unescapePointer(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** The unescaped reference tokens of a pointer: `/a/b~1c` → `a`, `b/c`; `` (the whole document) → none. */
export function pointerTokens(pointer: string): string[] {
  return pointer.split('/').slice(1).map(unescapePointer);
}

/** The value at a JSON pointer, or undefined. */
export function getPointer(root: unknown, pointer: string): unknown {
  let cursor = root;
  for (const key of pointerTokens(pointer)) {
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
  const key = unescapePointer(pointer.slice(cut + 1));
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else if (isRecord(parent)) delete parent[key];
}

/** The last reference token, unescaped. */
export function lastKey(pointer: string): string {
  return unescapePointer(pointer.slice(pointer.lastIndexOf('/') + 1));
}
