import { isRecord } from '../util/json.js';
import type { FieldPath, KubeObject } from './types.js';

/** SCTP in any ASCII case, as CEL's upperAscii reads it in the webhook's matchConditions and the VAPs ('ſctp' is not). */
export function isSctp(protocol: unknown): boolean {
  return typeof protocol === 'string' && /^sctp$/i.test(protocol);
}

/**
 * Whether `obj` has SCTP at one of `paths` (already resolved: no `podSpec` segment; `*` is every list element):
 * the same test the webhook's `<kind>-carries-sctp` matchCondition makes before the API server sends an object.
 */
export function hasSctpAt(obj: KubeObject | null, paths: readonly FieldPath[]): boolean {
  const walk = (value: unknown, path: FieldPath, i: number): boolean => {
    if (i === path.length) return isSctp(value);
    if (path[i] === '*') return Array.isArray(value) && value.some((v) => walk(v, path, i + 1));
    return isRecord(value) && walk(value[path[i]!], path, i + 1);
  };
  return obj !== null && paths.some((p) => walk(obj, p, 0));
}
