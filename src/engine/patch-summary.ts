import { isRecord } from '../util/json.js';
import type { JsonPatchOp } from './types.js';

const CONFIG = '/spec/config';

/**
 * What a mutation changes, in words, for the MUTATE line of `check`/`audit` and the admission audit log:
 * `spec.config: Ignition 2.2.0 → 3.4.0 (rewritten: storage.files, systemd.units); metadata.annotations added
 * (sctp-guard.io/ignition-translated-from: 2.2.0)`. Read from the patch, the object it applies to and the object it
 * leaves (the engine's `Decision.patchedObject`), so it describes what the API server will store, whatever rule
 * wrote the patch.
 */
export function describePatch(original: unknown, patched: unknown, patch: readonly JsonPatchOp[]): string {
  const inConfig = (op: JsonPatchOp) => op.path === CONFIG || op.path.startsWith(`${CONFIG}/`);
  const configOps = patch.filter(inConfig);
  const parts = configOps.length > 0 ? describeConfig(original, patched, configOps) : [];
  return [...parts, ...patch.filter((op) => !inConfig(op)).map(describeOp)].join('; ');
}

/** The patch's ops on spec.config as one change of the Ignition config: its versions and the sections rewritten. */
function describeConfig(original: unknown, patched: unknown, ops: readonly JsonPatchOp[]): string[] {
  const before = valueAt(original, CONFIG);
  const after = valueAt(patched, CONFIG);
  const from = ignitionVersion(before);
  const to = ignitionVersion(after);
  if (!isRecord(before) || !isRecord(after) || !from || !to) return ops.map(describeOp);
  const sections = rewrittenSections(before, after);
  return [`spec.config: Ignition ${from} → ${to}${sections.length > 0 ? ` (rewritten: ${sections.join(', ')})` : ''}`];
}

function segments(pointer: string): string[] {
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function valueAt(doc: unknown, pointer: string): unknown {
  let cur = doc;
  for (const s of segments(pointer)) {
    if (!isRecord(cur) && !Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[s];
  }
  return cur;
}

function ignitionVersion(config: unknown): string | undefined {
  const v = isRecord(config) && isRecord(config.ignition) ? config.ignition.version : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** The `section.field`s (storage.files, systemd.units, …) that differ between two Ignition configs. */
function rewrittenSections(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const section of [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => k !== 'ignition')
    .sort()) {
    const b = before[section];
    const a = after[section];
    if (isRecord(b) && isRecord(a)) {
      for (const field of [...new Set([...Object.keys(b), ...Object.keys(a)])].sort()) {
        if (JSON.stringify(b[field]) !== JSON.stringify(a[field])) out.push(`${section}.${field}`);
      }
    } else if (JSON.stringify(b) !== JSON.stringify(a)) {
      out.push(section);
    }
  }
  return out;
}

function shortValue(value: unknown): string {
  if (isRecord(value))
    return Object.entries(value)
      .map(([k, v]) => `${k}: ${shortValue(v)}`)
      .join(', ');
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function describeOp(op: JsonPatchOp): string {
  const field = segments(op.path).join('.') || '(the whole object)';
  switch (op.op) {
    case 'remove':
      return `${field} removed`;
    case 'move':
    case 'copy':
      return `${field} ${op.op === 'move' ? 'moved' : 'copied'} from ${segments(op.from).join('.')}`;
    default:
      return `${field} ${op.op === 'add' ? 'added' : op.op === 'test' ? 'tested' : 'replaced'} (${shortValue(op.value)})`;
  }
}
