import { convertConfig } from '../ignition/convert.js';
import { hasErrors } from '../ignition/problems.js';
import { describeTarget, isSpecVersion, resolveTarget, type SpecVersion } from '../ignition/versions.js';
import type { Policy } from '../policy/types.js';
import { clusterWideAssessment, unusableReason, type NodeGroup } from './assess.js';
import { BLACKLIST_FILE } from './machineconfig.js';
import { matchesLabelSelector } from './selectors.js';
import type { ClusterSnapshot, LabelSelector, PoolInfo } from './snapshot.js';

/**
 * What it takes for the nodes of a cluster to carry SCTP, worked out from the same node assessment the webhook
 * denies with (assess.ts): per MachineConfigPool the OpenShift docs' `load-sctp-module` MachineConfig, written for
 * that pool; on clusters without the MCO an NFD NodeFeatureRule for the label `sctpNodeLabel` names.
 */

const MODULES_LOAD_FILE = '/etc/modules-load.d/sctp-load.conf';
const MACHINECONFIG_API = 'machineconfiguration.openshift.io/v1';

/**
 * The files of the OpenShift documentation's `load-sctp-module` ("Enabling SCTP on your cluster", Ignition 3.2.0):
 * an empty /etc/modprobe.d/sctp-blacklist.conf replaces the RHCOS blacklist, and sctp-load.conf lists the module.
 * The docs' `data:,sctp` gets the trailing newline modules-load.d(5) lines end with (the same bytes systemd reads,
 * and no advisory from the ignition-spec-version rule). The one definition: `remediate` writes it, the
 * sctp-module-loaded denial and docs/rules.md quote it (describeLoadSctpModule).
 */
const LOAD_SCTP_FILES = [
  { path: BLACKLIST_FILE, source: 'data:,' },
  { path: MODULES_LOAD_FILE, source: 'data:,sctp%0A' },
] as const;
const LOAD_SCTP_MODE = 0o644;

/** The docs' config in Ignition 3.2.0. */
export function docsLoadSctpConfig(): Record<string, unknown> {
  const files = LOAD_SCTP_FILES.map(({ path, source }) => ({
    path,
    mode: LOAD_SCTP_MODE,
    overwrite: true,
    contents: { source },
  }));
  return { ignition: { version: '3.2.0' }, storage: { files } };
}

/** The same files in the Ignition 2.2.0 form the older OpenShift blog publishes (`filesystem: root`; 2.x overwrites). */
function docsLoadSctpConfigV22(): Record<string, unknown> {
  const files = LOAD_SCTP_FILES.map(({ path, source }) => ({
    filesystem: 'root',
    path,
    mode: LOAD_SCTP_MODE,
    contents: { source },
  }));
  return { ignition: { version: '2.2.0' }, storage: { files } };
}

/**
 * The MachineConfig's files in words, as the denial and `remediate` print them: `/etc/modprobe.d/sctp-blacklist.conf
 * with source "data:," and /etc/modules-load.d/sctp-load.conf with source "data:,sctp%0A", mode 420, overwrite: true`.
 */
export function describeLoadSctpModule(form: '2.x' | '3.x'): string {
  const files = LOAD_SCTP_FILES.map(({ path, source }) => `${path} with source "${source}"`).join(' and ');
  return `${files}, mode ${LOAD_SCTP_MODE}, ${form === '2.x' ? 'filesystem root' : 'overwrite: true'}`;
}

/**
 * The docs' config in `version`: 2.2.0 as the blog's form, 3.x translated from 3.2.0 by the same code that
 * rewrites MachineConfigs at admission. Throws when that code would refuse it: a fix must never degrade a pool.
 */
export function loadSctpConfig(version: SpecVersion): Record<string, unknown> {
  const source = version === '2.2.0' ? docsLoadSctpConfigV22() : docsLoadSctpConfig();
  const conversion = convertConfig(source, version);
  const problems = conversion.problems.map((p) => `${p.severity}: ${p.message}`);
  if (hasErrors(conversion.problems) || conversion.problems.length > 0) {
    throw new Error(
      `the load-sctp-module config in Ignition ${version} does not pass sctp-guard's own checks: ${problems.join('; ')}`,
    );
  }
  return conversion.config ?? source;
}

export interface PoolFix {
  pool: string;
  /** Nodes of the pool that do not carry SCTP, grouped by why (the webhook's own groups). */
  lacking: NodeGroup[];
  /** `apply`: print the MachineConfig; `wait`: a rollout to a config that loads sctp is under way; `manual`: no MachineConfig can be derived. */
  action: 'apply' | 'wait' | 'manual';
  /** For `manual`: why. */
  problem?: string;
  machineConfig?: MachineConfigObject;
  ignitionVersion?: SpecVersion;
  /** The version and where it came from, for the explanation: `3.4.0 (the version of rendered-master-3b9)`. */
  versionSource?: string;
  /** Other pools whose machineConfigSelector also takes the new MachineConfig (they roll out too). */
  alsoSelects: string[];
  nodeCount: number;
  /** How many nodes the MCO updates at once (`maxUnavailable`, default 1). */
  maxUnavailable: number;
}

export interface MachineConfigObject {
  apiVersion: string;
  kind: 'MachineConfig';
  metadata: { name: string; labels: Record<string, string> };
  spec: { config: Record<string, unknown> };
}

export interface NodeLabelFix {
  label: { key: string; value: string };
  /** False when the policy names no sctpNodeLabel yet: the user must add the label to the policy. */
  inPolicy: boolean;
  nodeFeatureRule: Record<string, unknown>;
  /** Why nfd-master would drop the label, when it would. */
  labelProblem?: string;
  lacking: NodeGroup[];
}

export interface RemediationPlan {
  /** Why node state cannot be used at all (no state, stale state). */
  unusable?: string;
  machineConfigsAvailable: boolean;
  pools: PoolFix[];
  /** Pools whose nodes all carry SCTP. */
  readyPools: string[];
  /** Nodes without SCTP that no pool manages. */
  unpooled: NodeGroup[];
  nodeLabel?: NodeLabelFix;
}

/** The label sctp-guard proposes when the policy has none: NFD's own namespace, so nfd-master accepts it. */
export const DEFAULT_SCTP_NODE_LABEL = { key: 'feature.node.kubernetes.io/sctp', value: 'true' };

export function planRemediation(snapshot: ClusterSnapshot, policy: Policy): RemediationPlan {
  const unusable = unusableReason(snapshot);
  if (unusable)
    return {
      unusable,
      machineConfigsAvailable: snapshot.machineConfigsAvailable,
      pools: [],
      readyPools: [],
      unpooled: [],
    };
  if (!snapshot.machineConfigsAvailable) {
    // Without the MCO, a node carries SCTP when its label says so: the assessment under that label.
    const label = policy.sctpNodeLabel
      ? { key: policy.sctpNodeLabel.key, value: policy.sctpNodeLabel.value ?? 'true' }
      : DEFAULT_SCTP_NODE_LABEL;
    const { all } = clusterWideAssessment(snapshot, { sctpNodeLabel: policy.sctpNodeLabel ?? DEFAULT_SCTP_NODE_LABEL });
    return {
      machineConfigsAvailable: false,
      pools: [],
      readyPools: [],
      unpooled: [],
      nodeLabel: {
        label,
        inPolicy: policy.sctpNodeLabel !== null,
        nodeFeatureRule: nodeFeatureRule(label),
        lacking: all.lacking,
        ...labelProblem(label.key),
      },
    };
  }

  // The MachineConfigs decide on OpenShift: the rendered configs the nodes run, whatever label the policy names.
  const { all } = clusterWideAssessment(snapshot, { sctpNodeLabel: null });
  const byPool = new Map<string, NodeGroup[]>();
  for (const g of all.lacking) {
    if (g.pool === undefined) continue;
    byPool.set(g.pool, [...(byPool.get(g.pool) ?? []), g]);
  }
  const taken = new Set(snapshot.machineConfigNames ?? []);
  const pools: PoolFix[] = [];
  for (const pool of snapshot.pools) {
    const lacking = byPool.get(pool.name);
    if (!lacking) continue;
    pools.push(poolFix(pool, lacking, snapshot, policy, taken));
  }
  const plan: RemediationPlan = {
    machineConfigsAvailable: true,
    pools,
    readyPools: all.readyPools.filter((p) => !byPool.has(p)),
    unpooled: all.lacking.filter((g) => g.pool === undefined),
  };
  if (policy.sctpNodeLabel) {
    // The policy decides by label: nodes that load sctp also need it, whatever made them load it.
    const label = { key: policy.sctpNodeLabel.key, value: policy.sctpNodeLabel.value ?? 'true' };
    const labelled = clusterWideAssessment(snapshot, policy).all;
    plan.nodeLabel = {
      label,
      inPolicy: true,
      nodeFeatureRule: nodeFeatureRule(label),
      lacking: labelled.lacking,
      ...labelProblem(label.key),
    };
  }
  return plan;
}

function poolFix(
  pool: PoolInfo,
  lacking: NodeGroup[],
  snapshot: ClusterSnapshot,
  policy: Policy,
  taken: Set<string>,
): PoolFix {
  const nodeCount = snapshot.nodes.classes.filter((c) => c.pool === pool.name).reduce((n, c) => n + c.nodes.length, 0);
  const base = {
    pool: pool.name,
    lacking,
    alsoSelects: [] as string[],
    nodeCount,
    maxUnavailable: maxUnavailable(pool.maxUnavailable, nodeCount),
  };
  // Nodes moving to a rendered config that loads sctp need nothing but time; any other group needs the fix.
  if (lacking.every((g) => g.state === 'pending' && g.desiredCarriesSctp)) return { ...base, action: 'wait' };

  const labels = labelsFor(pool.machineConfigSelector, pool.name);
  if ('problem' in labels) return { ...base, action: 'manual', problem: labels.problem };
  const { version, source } = poolVersion(pool, snapshot, policy);
  const name = freeName(pool.name, taken);
  taken.add(name);
  const machineConfig: MachineConfigObject = {
    apiVersion: MACHINECONFIG_API,
    kind: 'MachineConfig',
    metadata: { name, labels: labels.labels },
    spec: { config: loadSctpConfig(version) },
  };
  const alsoSelects = snapshot.pools
    .filter(
      (p) =>
        p.name !== pool.name &&
        p.machineConfigSelector &&
        !isEmpty(p.machineConfigSelector) &&
        matchesLabelSelector(labels.labels, p.machineConfigSelector),
    )
    .map((p) => p.name);
  return { ...base, action: 'apply', machineConfig, ignitionVersion: version, versionSource: source, alsoSelects };
}

/** The version the pool renders (its rendered config's), else the version ignition-spec-version targets. */
function poolVersion(
  pool: PoolInfo,
  snapshot: ClusterSnapshot,
  policy: Policy,
): { version: SpecVersion; source: string } {
  const config = pool.currentConfig ?? pool.targetConfig;
  if (isSpecVersion(pool.ignitionVersion))
    return { version: pool.ignitionVersion, source: `${pool.ignitionVersion} (the version of ${config})` };
  const target = resolveTarget(policy.ignition.targetVersion, snapshot);
  return { version: target.version, source: describeTarget(target, snapshot) };
}

/** `load-sctp-module` (the docs' name) for worker, `load-sctp-module-<pool>` otherwise; `-2`, `-3`... when taken. */
export function freeName(pool: string, taken: ReadonlySet<string>): string {
  const first = pool === 'worker' ? 'load-sctp-module' : `load-sctp-module-${pool}`;
  if (!taken.has(first)) return first;
  const stem = `load-sctp-module-${pool}`;
  if (!taken.has(stem)) return stem;
  for (let i = 2; ; i++) if (!taken.has(`${stem}-${i}`)) return `${stem}-${i}`;
}

function isEmpty(s: LabelSelector): boolean {
  return Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0;
}

/**
 * Labels a MachineConfig needs to be merged into the pool: the MCO lists MachineConfigs with the pool's
 * machineConfigSelector (openshift/machine-config-operator pkg/controller/render/render_controller.go); an empty
 * selector is refused there ("SelectingAll"), and a missing one selects nothing.
 */
export function labelsFor(
  selector: LabelSelector | undefined,
  pool: string,
): { labels: Record<string, string> } | { problem: string } {
  if (!selector) return { problem: 'the pool has no spec.machineConfigSelector, so no MachineConfig reaches it' };
  if (isEmpty(selector))
    return {
      problem: 'the pool selects every MachineConfig (empty machineConfigSelector), which the MCO refuses to render',
    };
  const labels: Record<string, string> = { ...selector.matchLabels };
  for (const e of selector.matchExpressions ?? []) {
    if (e.key in labels) continue;
    // In: the pool's own name, else a value other than `worker` (a custom pool's role list includes worker; the
    // fix should not roll out every worker too); Exists: any value. NotIn and DoesNotExist hold without the label.
    if (e.operator === 'In' && e.values && e.values.length > 0)
      labels[e.key] = e.values.find((v) => v === pool) ?? e.values.find((v) => v !== 'worker') ?? e.values[0]!;
    else if (e.operator === 'Exists') labels[e.key] = pool;
  }
  if (!matchesLabelSelector(labels, selector))
    return { problem: "no set of labels satisfies the pool's machineConfigSelector" };
  return { labels };
}

/**
 * The MCO's `maxUnavailable` (pkg/controller/node/node_controller.go maxUnavailable): default 1, a percentage of
 * the pool's nodes rounded down, and never less than 1.
 */
export function maxUnavailable(value: number | string | undefined, nodes: number): number {
  let n = 1;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const m = /^(\d+)%$/.exec(value);
    n = m ? Math.floor((Number(m[1]) * nodes) / 100) : Number.isInteger(Number(value)) ? Number(value) : 1;
  }
  return Math.max(1, n);
}

/**
 * An NFD NodeFeatureRule (nfd.k8s-sigs.io/v1alpha1, cluster-scoped) that labels nodes on which the `sctp` module
 * is loaded: the `kernel.loadedmodule` feature lists /proc/modules (node-feature-discovery source/kernel).
 */
export function nodeFeatureRule(label: { key: string; value: string }): Record<string, unknown> {
  return {
    apiVersion: 'nfd.k8s-sigs.io/v1alpha1',
    kind: 'NodeFeatureRule',
    metadata: { name: 'sctp-guard-sctp-loaded' },
    spec: {
      rules: [
        {
          name: 'sctp kernel module loaded',
          labels: { [label.key]: label.value },
          matchFeatures: [{ feature: 'kernel.loadedmodule', matchExpressions: { sctp: { op: 'Exists' } } }],
        },
      ],
    },
  };
}

/**
 * Whether nfd-master would set the label (node-feature-discovery pkg/apis/nfd/validate Label): unprefixed keys
 * get `feature.node.kubernetes.io/`; keys in kubernetes.io or *.kubernetes.io other than NFD's own feature and
 * profile namespaces are dropped unless nfd-master lists the namespace in `extraLabelNs`.
 */
function labelProblem(key: string): { labelProblem?: string } {
  const slash = key.indexOf('/');
  if (slash < 0)
    return {
      labelProblem: `nfd-master writes the unprefixed label ${key} as feature.node.kubernetes.io/${key}: set sctpNodeLabel.key to that`,
    };
  const ns = key.slice(0, slash);
  const own = ['feature.node.kubernetes.io', 'profile.node.kubernetes.io'];
  const nfdOwn = own.includes(ns) || own.some((o) => ns.endsWith(`.${o}`));
  if ((ns === 'kubernetes.io' || ns.endsWith('.kubernetes.io')) && !nfdOwn) {
    return {
      labelProblem: `nfd-master refuses labels in the ${ns} namespace unless its configuration lists it in extraLabelNs`,
    };
  }
  return {};
}
