import { isRecord } from '../util/json.js';
import { pointerTokens } from '../util/json-pointer.js';

/** The objects of a list with their JSON pointers (`/storage/files/2`), indexed as in the list. */
export function entries(value: unknown, pointer: string): Array<[Record<string, unknown>, string]> {
  if (!Array.isArray(value)) return [];
  return value.flatMap((v, i): Array<[Record<string, unknown>, string]> =>
    isRecord(v) ? [[v, `${pointer}/${i}`]] : [],
  );
}

/**
 * Where an Ignition field sits, as users read it in their MachineConfig: `spec.config.storage.files[1].mode`;
 * `short` leaves out `spec.config.` for one-line warnings.
 */
export function fieldPath(pointer: string, short = false): string {
  let out = short ? '' : 'spec.config';
  for (const key of pointerTokens(pointer)) out += /^\d+$/.test(key) ? `[${key}]` : `.${key}`;
  return short ? out.slice(1) : out;
}

/**
 * Go's `path.Clean` (what ign-converter's `path.Join(fsPath, node.Path)` gives for the root filesystem): one
 * slash between elements, `.` and `..` resolved, no trailing slash. `/etc/modules-load.d//sctp.conf` →
 * `/etc/modules-load.d/sctp.conf`.
 */
export function cleanPath(p: string): string {
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  return rooted ? `/${joined}` : joined || '.';
}
