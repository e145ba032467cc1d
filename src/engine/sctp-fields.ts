import { isRecord } from '../util/json.js';
import type { FieldPath, KubeObject } from './types.js';

/** SCTP in any ASCII case, as CEL's upperAscii reads it in the webhook's matchConditions and the VAPs ('ſctp' is not). */
export function isSctp(protocol: unknown): boolean {
  // The length first: TCP and UDP are not even matched against the pattern.
  return typeof protocol === 'string' && protocol.length === 4 && /^sctp$/i.test(protocol);
}

/**
 * Whether `obj` has SCTP at one of `paths` (already resolved: no `podSpec` segment; `*` is every list element):
 * the same test the webhook's `<kind>-carries-sctp` matchCondition makes before the API server sends an object.
 */
export function hasSctpAt(obj: KubeObject | null, paths: readonly FieldPath[]): boolean {
  if (obj === null) return false;
  for (const path of paths) if (sctpBelow(obj, path, 0)) return true;
  return false;
}

/** `hasSctpAt` along one path from its segment `i`: loops, not a closure per call (it runs for every request). */
function sctpBelow(value: unknown, path: FieldPath, i: number): boolean {
  for (; i < path.length; i++) {
    const key = path[i]!;
    if (key === '*') {
      if (!Array.isArray(value)) return false;
      for (const item of value) if (sctpBelow(item, path, i + 1)) return true;
      return false;
    }
    if (!isRecord(value)) return false;
    value = value[key];
  }
  return isSctp(value);
}
