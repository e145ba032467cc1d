import { isRecord, member } from '../util/json.js';

type Rec = Record<string, unknown>;

/**
 * The sections of a rendered config that the machine-config daemon cannot change on running nodes
 * (openshift/machine-config-operator pkg/controller/common/reconcile.go isConfigReconcilable; before 4.16
 * pkg/daemon/update.go reconcilable): it compares each with `reflect.DeepEqual` between the *old* rendered config
 * and the *new* one, so an entry the pool already renders is no change at all. LUKS is not among them.
 */
export const FIXED_SECTIONS = [
  'passwd.groups',
  'storage.disks',
  'storage.filesystems',
  'storage.raid',
  'storage.directories',
  'storage.links',
] as const;
export type FixedSection = (typeof FIXED_SECTIONS)[number];

/** Section → its entries in canonical JSON; only non-empty sections are present. */
export type FixedSections = Partial<Record<FixedSection, readonly string[]>>;

export function sectionEntries(config: Rec, section: FixedSection): unknown[] {
  const [top, key] = section.split('.') as [string, string];
  const list = member(config, top)[key];
  return Array.isArray(list) ? list : [];
}

/**
 * Entries a MachineConfig may carry in the fixed sections because they are no change: what the pools it targets
 * already render, or what the same MachineConfig carried before an UPDATE. `from` names where they come from.
 */
export interface Baseline {
  sections: FixedSections;
  from: string;
  /** Sections whose every change the MCO accepts (MachineConfiguration irreconcilableValidationOverrides). */
  overridden?: readonly FixedSection[];
}

/**
 * `spec.irreconcilableValidationOverrides.storage` values and the sections they open (openshift/api operator/v1
 * types_machineconfiguration.go; pkg/controller/common/reconcile.go isConfigReconcilable skips those comparisons).
 */
export const OVERRIDE_SECTIONS: Readonly<Record<string, FixedSection>> = {
  Disks: 'storage.disks',
  FileSystems: 'storage.filesystems',
  Raid: 'storage.raid',
};

/** What a config carries in the fixed sections, as comparable strings (a few hundred bytes for a /var partition). */
export function fixedSections(config: Rec): FixedSections {
  const out: FixedSections = {};
  for (const section of FIXED_SECTIONS) {
    const entries = sectionEntries(config, section);
    if (entries.length > 0) out[section] = entries.map(canonical);
  }
  return out;
}

/**
 * JSON with sorted keys and without what Go's encoder leaves out of a rendered config (nil pointers and empty
 * slices are `omitempty` in the Ignition 3 types), so a user's entry and the same entry read back from the
 * rendered config compare equal.
 */
export function canonical(value: unknown): string {
  return JSON.stringify(normalize(value)) ?? 'null';
}

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (!isRecord(value)) return value;
  const out: Rec = {};
  for (const key of Object.keys(value).sort()) {
    const v = normalize(value[key]);
    if (
      v === null ||
      v === undefined ||
      (Array.isArray(v) && v.length === 0) ||
      (isRecord(v) && Object.keys(v).length === 0)
    )
      continue;
    out[key] = v;
  }
  return out;
}
