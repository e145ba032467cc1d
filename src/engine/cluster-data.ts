import { KIND_NAMES, type KindName } from '../cluster/records.js';
import type { Rule } from './types.js';

/** The cluster data a set of rules reads: what the informers watch and the offline loader loads for them. */
export function clusterDataOf(rules: readonly Rule[]): KindName[] {
  return KIND_NAMES.filter((kind) => rules.some((r) => r.clusterData?.includes(kind)));
}
