import { isRecord } from '../util/json.js';
import { pointerTokens } from '../util/json-pointer.js';

/** The objects of a list with their JSON pointers (`/storage/files/2`), indexed as in the list. */
export function entries(value: unknown, pointer: string): Array<[Record<string, unknown>, string]> {
  const out: Array<[Record<string, unknown>, string]> = [];
  if (!Array.isArray(value)) return out;
  // A loop, not flatMap: no array per element (every check of a MachineConfig review walks its lists here).
  for (let i = 0; i < value.length; i++) {
    const v: unknown = value[i];
    if (isRecord(v)) out.push([v, `${pointer}/${i}`]);
  }
  return out;
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
