import { labelsOf, poolsSelecting } from '../cluster/pool-landing.js';
import type { ClusterSnapshot, PoolInfo } from '../cluster/snapshot.js';
import { matchesLabelSelector } from '../cluster/selectors.js';
import type { KubeObject } from '../engine/types.js';
import {
  FIXED_SECTIONS,
  fixedSections,
  OVERRIDE_SECTIONS,
  type Baseline,
  type FixedSection,
  type FixedSections,
} from '../ignition/fixed-sections.js';
import { mcoReleaseOf } from '../ignition/releases.js';

/**
 * What a MachineConfig may carry in the sections the daemon cannot change, as no change: per pool that selects it
 * after the change (render_controller.go getMachineConfigsForPool), what the pool's rendered config already has,
 * plus, on UPDATE, what this MachineConfig carried before, but only for a pool that selected it before too (a config
 * moved into a pool by a label edit is new there). Pools are compared old rendered against new rendered
 * (reconcile.go isConfigReconcilable), so only what every target pool keeps counts. `before` is the old object's
 * config, converted as the new one is. Sections that MachineConfiguration `cluster` overrides are open.
 */
export function poolBaselines(
  object: KubeObject,
  oldObject: KubeObject | null,
  before: Record<string, unknown> | undefined,
  snapshot: ClusterSnapshot,
): Baseline[] {
  const previous = before ? fixedSections(before) : {};
  const pools = poolsSelecting(labelsOf(object.metadata), snapshot);
  const overridden = overriddenSections(snapshot);
  const out: Baseline[] =
    overridden.length > 0
      ? [{ sections: {}, overridden, from: 'MachineConfiguration cluster irreconcilableValidationOverrides' }]
      : [];
  // No pool known to take it: only its own past can be told apart from a change.
  if (pools.length === 0)
    return before ? [...out, { sections: previous, from: 'this MachineConfig before the update' }] : out;

  const oldLabels = oldObject ? labelsOf(oldObject.metadata) : undefined;
  const wasIn = (p: PoolInfo) =>
    before !== undefined &&
    oldLabels !== undefined &&
    p.machineConfigSelector !== undefined &&
    matchesLabelSelector(oldLabels, p.machineConfigSelector);
  const perPool = pools.map((p) => (wasIn(p) ? union(p.fixedSections ?? {}, previous) : (p.fixedSections ?? {})));
  const sections: FixedSections = {};
  for (const section of FIXED_SECTIONS) {
    const [first, ...rest] = perPool.map((s) => s[section] ?? []);
    const kept = first!.filter((e) => rest.every((entries) => entries.includes(e)));
    if (kept.length > 0) sections[section] = kept;
  }
  const from = pools.map((p) => {
    const rendered = p.fixedSections ? `pool ${p.name}'s rendered config (${p.currentConfig ?? '?'})` : undefined;
    if (!wasIn(p)) return rendered ?? `pool ${p.name} (its rendered config is not known)`;
    return rendered
      ? `${rendered} or this MachineConfig before the update`
      : `this MachineConfig before the update (pool ${p.name})`;
  });
  return [...out, { sections, from: from.join('; ') }];
}

function union(a: FixedSections, b: FixedSections): FixedSections {
  const out: FixedSections = {};
  for (const section of FIXED_SECTIONS) {
    const entries = [...new Set([...(a[section] ?? []), ...(b[section] ?? [])])];
    if (entries.length > 0) out[section] = entries;
  }
  return out;
}

/** The overrides the cluster's MCO honours: none in a release known to lack the field (it would be pruned anyway). */
function overriddenSections(snapshot: ClusterSnapshot): FixedSection[] {
  const release = mcoReleaseOf(snapshot.openshiftVersion);
  if (release && !release.irreconcilableOverrides) return [];
  return (snapshot.irreconcilableOverrides ?? [])
    .map((o) => OVERRIDE_SECTIONS[o])
    .filter((s): s is FixedSection => s !== undefined);
}
