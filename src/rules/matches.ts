import type { Operation, RuleMatch } from '../engine/types.js';
import type { KindInfo } from '../util/kinds.js';

/** A rule's `matches` for kinds of the registry: one entry per API group, with every version the group serves. */
export function matchKinds(
  kinds: readonly KindInfo[],
  operations: Operation[],
  reads: Pick<RuleMatch, 'sctpFields'> = {},
): RuleMatch[] {
  const byGroup = new Map<string, RuleMatch>();
  for (const k of kinds) {
    let m = byGroup.get(k.group);
    if (!m) byGroup.set(k.group, (m = { group: k.group, kinds: [], versions: [], operations, ...reads }));
    m.kinds.push({ kind: k.kind, resource: k.resource });
    for (const v of k.versions) if (!m.versions.includes(v)) m.versions.push(v);
  }
  return [...byGroup.values()];
}
