import { mergeFields } from '../cluster/machineconfig.js';
import { archOf, isElClass, labelsOf, poolClasses, poolsSelecting } from '../cluster/pool-landing.js';
import type { ClusterSnapshot, MergeFields, PoolInfo } from '../cluster/snapshot.js';
import { matchKinds } from './matches.js';
import type { Finding, KubeObject, Rule, RuleInput, Verdict } from '../engine/types.js';
import { pass } from '../engine/verdict.js';
import { mcoReleaseOf, type McoRelease } from '../ignition/releases.js';
import { isRecord } from '../util/json.js';
import { KINDS } from '../util/kinds.js';

export const ID = 'machineconfig-fields';

const KERNEL_DEVEL = 'kernel-devel';

/**
 * A MachineConfig's fields beyond its Ignition config, judged as the MCO of the cluster's release judges them
 * (the facts per release: src/ignition/releases.ts), against every pool whose machineConfigSelector takes it
 * after the change:
 * - `kernelType`: pkg/controller/common/helpers.go `ValidateMachineConfig` ("kernelType=%s is invalid"); the daemon's
 *   `switchKernel` (pkg/daemon/update.go) refuses 64k-pages on RHCOS/SCOS nodes that are not arm64;
 * - `extensions`: `validateExtensions` ("invalid extensions found: %v"), in the render controller from 4.16 and in
 *   the daemon on RHCOS/SCOS nodes;
 * - `MergeMachineConfigs`: kernel-devel with a non-default kernel ("installing kernel-devel extension is not
 *   supported with kernelType: %s");
 * - `fips`: a change is irreconcilable ("detected change to FIPS flag; refusing to modify FIPS on a running
 *   cluster"), in reconcile.go `isConfigReconcilable` from 4.16, in the daemon's `checkFIPS` before.
 * Each degrades the pool after `oc apply` succeeded. kernelArguments and osImageURL are not validated by these
 * releases' MCO: silent. Silent too when the release, the pools or their MachineConfigs are not known.
 */
function evaluate({ object, snapshot }: RuleInput): Verdict {
  if (!object || !isRecord(object.spec)) return pass();
  const release = mcoReleaseOf(snapshot.openshiftVersion);
  const pools = poolsSelecting(labelsOf(object.metadata), snapshot);
  if (!release || pools.length === 0) return pass();
  const spec = object.spec;
  const own = mergeFields(spec) ?? {};
  const poolNames = `pool ${pools.map((p) => p.name).join(', ')}`;
  const findings: Finding[] = [];

  const kernelType = own.kernelType;
  if (kernelType !== undefined && !release.kernelTypes.includes(kernelType)) {
    findings.push({
      severity: 'violation',
      text: `kernelType "${kernelType}" does not exist in OpenShift ${release.release}: the render controller refuses the MachineConfig ("kernelType=${kernelType} is invalid") and ${poolNames} degrades.`,
      fix: `use one of ${release.kernelTypes.join(', ')}, or leave kernelType out${kernelType === '64k-pages' ? ' (64k-pages exists from OpenShift 4.15, on arm64 nodes)' : ''}`,
      summary: `kernelType=${kernelType} is invalid in OpenShift ${release.release}`,
      path: '/spec/kernelType',
    });
  }

  const invalid = (own.extensions ?? []).filter((e) => !release.extensions.includes(e));
  if (invalid.length > 0 && extensionsChecked(release, spec, pools, snapshot)) {
    // Go's %v of a []string: [a b].
    const goList = `[${invalid.join(' ')}]`;
    const summary = `invalid extensions found: ${goList}`;
    findings.push({
      severity: 'violation',
      text: `OpenShift ${release.release} ships no extension ${invalid.map((e) => `"${e}"`).join(', ')}: the MCO refuses it ("invalid extensions found: ${goList}") and ${poolNames} degrades.`,
      fix: `remove ${invalid.join(', ')} from spec.extensions; this release has ${release.extensions.join(', ')}`,
      summary,
      // The first extension named wrong (`check` prints its line); ratcheted on the whole list, as before.
      path: `/spec/extensions/${(spec.extensions as unknown[]).indexOf(invalid[0])}`,
      ratchetKey: { summary, extensions: spec.extensions },
    });
  }

  for (const pool of pools) findings.push(...mergedFindings(object, own, pool, release, snapshot));
  return { findings, annotations: {} };
}

/** Whether this release's MCO (controller, or daemon on the pools' RHCOS/SCOS nodes) checks the allowlist here. */
function extensionsChecked(
  release: McoRelease,
  spec: Record<string, unknown>,
  pools: PoolInfo[],
  snapshot: ClusterSnapshot,
): boolean {
  if (release.extensionsCheckedBy === 'controller') return true;
  // RawExtension: `config: null` leaves Raw nil, as an absent config does.
  if (release.extensionsCheckedBy === 'controller-with-config' && spec.config !== undefined && spec.config !== null)
    return true;
  return pools.some((p) => poolClasses(snapshot, p.name).some(isElClass));
}

interface Merged {
  fips: boolean;
  /** Non-default kernel types in merge order (the last one wins). */
  kernelTypes: string[];
  extensions: string[];
}

/** MergeMachineConfigs over the fields: fips true anywhere wins, the last realtime/64k-pages wins, extensions add up. */
function merge(configs: ReadonlyArray<MergeFields & { name: string }>): Merged {
  const sorted = [...configs].sort((a, b) => a.name.localeCompare(b.name));
  return {
    fips: sorted.some((c) => c.fips === true),
    kernelTypes: sorted.map((c) => c.kernelType).filter((k): k is string => k === 'realtime' || k === '64k-pages'),
    extensions: sorted.flatMap((c) => c.extensions ?? []),
  };
}

/**
 * What the pool's next rendered config would be with this MachineConfig in it, from the pool's own MachineConfigs.
 * Judged only when those reproduce the pool's rendered config (otherwise the data is incomplete or a render is
 * pending, and the outcome is not known).
 */
function mergedFindings(
  object: KubeObject,
  own: MergeFields,
  pool: PoolInfo,
  release: McoRelease,
  snapshot: ClusterSnapshot,
): Finding[] {
  if (!pool.mergedFrom || !pool.renderedFields) return [];
  const name = String(object.metadata?.name ?? '');
  const before = merge(pool.mergedFrom);
  const rendered = pool.renderedFields;
  const renderedKernel =
    rendered.kernelType === 'realtime' || rendered.kernelType === '64k-pages' ? rendered.kernelType : 'default';
  const consistent =
    before.fips === (rendered.fips === true) &&
    (before.kernelTypes.at(-1) ?? 'default') === renderedKernel &&
    [...before.extensions].sort().join(',') === [...(rendered.extensions ?? [])].sort().join(',');
  if (!consistent) return [];

  const after = merge([...pool.mergedFrom.filter((c) => c.name !== name), { name, ...own }]);
  const out: Finding[] = [];
  const kernel = after.kernelTypes.at(-1);
  if (kernel && after.extensions.includes(KERNEL_DEVEL)) {
    const culprit = own.extensions?.includes(KERNEL_DEVEL)
      ? 'its kernel-devel extension'
      : `its kernelType ${own.kernelType ?? ''}`;
    out.push({
      severity: 'violation',
      text: `In pool ${pool.name} ${culprit} meets kernelType ${kernel}: the MCO cannot merge them ("installing kernel-devel extension is not supported with kernelType: ${kernel}") and the pool degrades.`,
      fix: `install kernel-devel only on a pool with the default kernel, or drop the ${kernel} kernelType from pool ${pool.name}`,
      summary: `installing kernel-devel extension is not supported with kernelType: ${kernel} (pool ${pool.name})`,
      path: own.extensions?.includes(KERNEL_DEVEL) ? '/spec/extensions' : '/spec/kernelType',
    });
  }

  const arches = kernel ? release.kernelTypeArchitectures[kernel] : undefined;
  // Only when no other kernel type could win the merge: the order among several is not known here.
  if (kernel && arches && own.kernelType === kernel && new Set(after.kernelTypes).size === 1) {
    const misfits = poolClasses(snapshot, pool.name).filter(
      (c) => isElClass(c) && archOf(c) !== undefined && !arches.includes(archOf(c)!),
    );
    const nodes = misfits.flatMap((c) => c.nodes);
    if (nodes.length > 0) {
      const archList = [...new Set(misfits.map(archOf))].join(', ');
      out.push({
        severity: 'violation',
        text: `Pool ${pool.name} has ${nodes.length} ${archList} node(s) (${nodes.slice(0, 3).join(', ')}${nodes.length > 3 ? ', …' : ''}): the machine-config daemon refuses kernelType ${kernel} there ("${kernel} is only supported for aarch64 architecture") and the nodes degrade.`,
        fix: `apply kernelType ${kernel} only to a pool of ${arches.join(', ')} nodes (a custom pool selecting kubernetes.io/arch=${arches[0]})`,
        summary: `${kernel} is only supported for aarch64 architecture (pool ${pool.name})`,
        path: '/spec/kernelType',
      });
    }
  }

  if (after.fips !== before.fips) {
    const hasNodes = poolClasses(snapshot, pool.name).length > 0 || (pool.machineCount ?? 0) > 0;
    if (release.fipsCheckedBy === 'controller' || hasNodes) {
      out.push({
        severity: 'violation',
        text: `This ${after.fips ? 'enables' : 'disables'} FIPS in pool ${pool.name}, whose nodes run with FIPS ${before.fips ? 'on' : 'off'}: the MCO refuses it ("detected change to FIPS flag; refusing to modify FIPS on a running cluster") and the pool degrades.`,
        fix: 'FIPS is chosen at install time (install-config fips: true); leave spec.fips as the pool has it',
        summary: `detected change to FIPS flag in pool ${pool.name}`,
        path: '/spec/fips',
      });
    }
  }
  return out;
}

export const machineConfigFields: Rule = {
  id: ID,
  description:
    "A MachineConfig's kernelType, extensions and fips are refused, or degrade the pool, where the cluster's MCO release or the pool's nodes do not take them.",
  // With ignition-spec-version on the mutating hook (failurePolicy Ignore): an outage of sctp-guard never blocks a
  // MachineConfig, which other platform operators write too (docs/operating.md).
  phase: 'mutate',
  defaultEnforcement: 'deny',
  // Every MachineConfig (the MCO's own never reach a rule: engine/platform-owned.ts).
  matches: matchKinds([KINDS.MachineConfig], ['CREATE', 'UPDATE']),
  clusterData: ['Node', 'MachineConfig', 'MachineConfigPool', 'ClusterVersion'],
  evaluate,
};
