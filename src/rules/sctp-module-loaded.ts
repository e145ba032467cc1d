import {
  podAssessment,
  clusterWideAssessment,
  poolsCarryingSctp,
  unusableReason,
  type Assessment,
  type NodeGroup,
} from '../cluster/assess.js';
import { describeLoadSctpModule } from '../cluster/remediation.js';
import { podPlacement } from '../cluster/placement.js';
import type { ClusterSnapshot } from '../cluster/snapshot.js';
import { matchKinds } from './matches.js';
import type { KubeObject, Operation, RuleInput, Verdict, Rule } from '../engine/types.js';
import { advisory, messagePrefix, pass, violation, WARNING_MAX, type FindingParts } from '../engine/verdict.js';
import type { Policy } from '../policy/types.js';
import { KINDS, POD_KINDS } from '../util/kinds.js';
import { resolveTarget } from '../ignition/versions.js';
import {
  networkPolicySctpPorts,
  podSctpPorts,
  podSpecOf,
  portLabel,
  SCTP_FIELDS,
  serviceSctpPorts,
  type ContainerPortRef,
} from './objects.js';

export const ID = 'sctp-module-loaded';

const OPS: Operation[] = ['CREATE', 'UPDATE'];

/** What the message says an object needs SCTP for, or undefined when it has no SCTP port. */
function sctpUse(obj: KubeObject | null): string | undefined {
  switch (obj?.kind) {
    case 'Service': {
      const ports = serviceSctpPorts(obj);
      return ports.length > 0 ? `SCTP port ${ports.map(portLabel).join(', ')}` : undefined;
    }
    case 'NetworkPolicy': {
      const ports = networkPolicySctpPorts(obj);
      return ports.length > 0 ? `SCTP port ${ports.map(portLabel).join(', ')}` : undefined;
    }
    default: {
      const ports = podSctpPorts(podSpecOf(obj));
      return ports.length > 0 ? `SCTP port ${ports.map(containerPortLabel).join(', ')}` : undefined;
    }
  }
}

function containerPortLabel(p: ContainerPortRef): string {
  const host = p.hostPort !== undefined ? ` hostPort ${String(p.hostPort)}` : '';
  return `${portLabel(p)}${host} in container ${p.container}`;
}

/**
 * The documented fix, in the Ignition version the cluster takes (resolveTarget: the pools' rendered version, else
 * the release's): the example file of that version when the repository has one (2.2.0, 3.2.0), else what
 * `sctp-guard remediate` prints in it (3.1.0, 3.4.0, ...).
 */
function machineConfigFix(pools: string[], snapshot: ClusterSnapshot, policy: Policy): string {
  const version = resolveTarget(policy.ignition.targetVersion, snapshot).version;
  const v2 = version.startsWith('2.');
  const target =
    pools.length > 0
      ? `pool${pools.length > 1 ? 's' : ''} ${pools.join(', ')} (label machineconfiguration.openshift.io/role: ${pools.length === 1 ? pools[0] : '<pool>'})`
      : 'the pools of these nodes';
  const example = EXAMPLE_VERSIONS.includes(version)
    ? `examples/openshift-machineconfig-load-sctp-${version}.yaml`
    : `sctp-guard remediate -o yaml prints it in ${version}`;
  return (
    `apply the OpenShift docs MachineConfig load-sctp-module to ${target}: Ignition ${version}, ${describeLoadSctpModule(v2 ? '2.x' : '3.x')} ` +
    `(${example}), then wait for the pool to finish updating`
  );
}

/** The Ignition versions of examples/openshift-machineconfig-load-sctp-*.yaml. */
const EXAMPLE_VERSIONS: readonly string[] = ['2.2.0', '3.2.0'];

const LABEL_HINT =
  'a node label that marks nodes with the sctp module loaded (an NFD NodeFeatureRule on kernel.loadedmodule, or set by hand)';

function fixFor(a: Assessment, snapshot: ClusterSnapshot, policy: Policy, workload: boolean): string {
  const fixes: string[] = [];
  const alternatives: string[] = [];
  const label = policy.sctpNodeLabel;
  if (label) {
    fixes.push(
      `load sctp on the nodes and label them ${label.value === undefined ? label.key : `${label.key}=${label.value}`}`,
    );
  } else {
    const rolling = a.lacking.filter((g) => g.state === 'pending' && g.desiredCarriesSctp);
    const broken = a.lacking.filter((g) => g.state === 'not-ready' || (g.state === 'pending' && !g.desiredCarriesSctp));
    if (rolling.length > 0)
      fixes.push(
        `wait for the rollout of ${pools(rolling) ? `pool ${pools(rolling)}` : 'the pool'} to finish (its new rendered config loads sctp)`,
      );
    if (broken.length > 0) fixes.push(machineConfigFix(pools(broken).split(', ').filter(Boolean), snapshot, policy));
    if (a.lacking.some((g) => g.state === 'unknown'))
      alternatives.push(`set sctpNodeLabel in the sctp-guard policy to ${LABEL_HINT}`);
  }
  const readyPools = workload ? poolsCarryingSctp(snapshot, policy) : [];
  if (readyPools.length > 0)
    alternatives.push(
      `keep the pods on nodes that carry SCTP (pool ${readyPools.join(', ')}) with a nodeSelector or node affinity`,
    );
  // "or" only between choices: with no fix before it, an alternative is the fix itself.
  return [...fixes, ...alternatives.map((alt, i) => (fixes.length > 0 || i > 0 ? `or ${alt}` : alt))].join('; ');
}

function pools(groups: NodeGroup[]): string {
  return [...new Set(groups.map((g) => g.pool).filter((p): p is string => p !== undefined))].sort().join(', ');
}

function describeGroups(groups: NodeGroup[]): string {
  const shown = groups.slice(0, 4).map((g) => {
    const names = g.sample.join(', ') + (g.count > g.sample.length ? `, ${g.count - g.sample.length} more` : '');
    return `${g.pool ? `pool ${g.pool}, ` : ''}${g.count} node${g.count === 1 ? '' : 's'} (${names}): ${g.reason}`;
  });
  if (groups.length > 4)
    shown.push(`${groups.length - 4} more groups (serve --debug-endpoints: GET /debug/nodes lists every node)`);
  return shown.join('; ');
}

/**
 * The groups and the fix of a judgement read only the assessment, the snapshot and the policy: built once per
 * assessment (assess.ts keeps one per node-index version) for the snapshot and policy in force, not per request.
 */
const described = new WeakMap<
  Assessment,
  { snapshot: ClusterSnapshot; policy: Policy; workload: boolean; groups: string; fix: string }
>();

function describeLacking(
  a: Assessment,
  snapshot: ClusterSnapshot,
  policy: Policy,
  workload: boolean,
): { groups: string; fix: string } {
  const kept = described.get(a);
  if (kept?.snapshot === snapshot && kept.policy === policy && kept.workload === workload) return kept;
  const made = {
    snapshot,
    policy,
    workload,
    groups: describeGroups(a.lacking),
    fix: fixFor(a, snapshot, policy, workload),
  };
  described.set(a, made);
  return made;
}

/** `prefix` followed by as many names of nodes without SCTP as fit in `room` characters. */
function withLackingNames(prefix: string, a: Assessment, room: number): string {
  const lacking = a.total - a.counts.ready;
  const names = a.lacking.flatMap((g) => g.sample);
  let shown = 0;
  for (let n = names.length; n > 0; n--) {
    const more = lacking - n > 0 ? ` and ${lacking - n} more` : '';
    if (`${prefix}${names.slice(0, n).join(', ')}${more}`.length <= room) {
      shown = n;
      break;
    }
  }
  return `${prefix}${names.slice(0, shown).join(', ')}${lacking - shown > 0 ? `${shown > 0 ? ' and ' : ''}${lacking - shown} more` : ''}`;
}

/**
 * UPDATE ratcheting keys: an update keeps the problem when the old object had the same one, wherever its pods could
 * land (scaling a Deployment that predates the policy, or moving it between pools that both lack SCTP, is warned).
 */
const NO_SCTP_NODE = 'no node it needs carries SCTP';
const UNKNOWN_STATE = 'unknown whether the nodes carry SCTP';

/** Unknown node state: the engine applies the policy's unknownNodeState to it. */
function unknownVerdict(parts: FindingParts, maxSeverity: 'violation' | 'advisory'): Verdict {
  return {
    findings: [{ severity: maxSeverity, ...parts, unknownNodeState: true, ratchetKey: UNKNOWN_STATE }],
    annotations: {},
  };
}

interface Subject {
  use: string;
  /** "it can run on", "in the cluster"... */
  scope: string;
  workload: boolean;
  /**
   * DaemonSets only: the characters left for a warning after the engine's `[rule-id] Kind ns/name: ` prefix, which
   * its summary fills with the names of the nodes without SCTP (its pods run on each of them).
   */
  daemonSetRoom?: number;
  /** NetworkPolicies are never denied: the policy only says no SCTP traffic can match. */
  maxSeverity: 'violation' | 'advisory';
}

function judge(s: Subject, a: Assessment, snapshot: ClusterSnapshot, policy: Policy): Verdict {
  const unusable = unusableReason(snapshot);
  if (unusable) {
    return unknownVerdict(
      {
        text: `${s.use}, but ${unusable}, so it is unknown whether the nodes carry SCTP.`,
        summary: `unknown whether nodes carry SCTP (${unusable})`,
      },
      s.maxSeverity,
    );
  }
  if (a.total === 0) {
    if (snapshot.nodes.size > 0) return pass(); // No node fits the pod at all: the scheduler reports that, not an SCTP problem.
    return unknownVerdict(
      {
        text: `${s.use}, but the cluster state has no nodes, so it is unknown whether they carry SCTP.`,
        summary: 'unknown whether nodes carry SCTP (no nodes in cluster state)',
      },
      s.maxSeverity,
    );
  }
  const { ready, unknown } = a.counts;
  if (ready === a.total) return pass();
  const { groups, fix } = describeLacking(a, snapshot, policy, s.workload);
  if (ready === 0 && unknown > 0) {
    const text = `${s.use}; of the ${a.total} nodes ${s.scope}, none is known to carry SCTP: ${groups}.`;
    return unknownVerdict(
      { text, fix, summary: `unknown whether the ${a.total} nodes ${s.scope} carry SCTP` },
      s.maxSeverity,
    );
  }
  if (ready === 0) {
    const text = `${s.use}, but none of the ${a.total} nodes ${s.scope} carries SCTP (the sctp kernel module is blacklisted or not loaded): ${groups}.`;
    const summary = `none of the ${a.total} nodes ${s.scope} loads the sctp module`;
    return s.maxSeverity === 'violation'
      ? violation({ text, fix, summary, ratchetKey: NO_SCTP_NODE })
      : advisory({ text, fix, summary });
  }
  const text = `${s.use}, but only ${ready} of the ${a.total} nodes ${s.scope} carry SCTP; SCTP traffic to the others is dropped: ${groups}.`;
  const summary =
    s.daemonSetRoom !== undefined
      ? withLackingNames(`no SCTP on ${a.total - ready} of ${a.total} nodes: `, a, s.daemonSetRoom)
      : `only ${ready} of ${a.total} nodes ${s.scope} carry SCTP`;
  return advisory({ text, fix, summary });
}

function evaluateSctpModuleLoaded(input: RuleInput): Verdict {
  const { object, snapshot, policy } = input;
  const use = sctpUse(object);
  if (!use || !object) return pass();
  if (object.kind === 'Service') {
    const { all: everywhere, workloads } = clusterWideAssessment(snapshot, policy);
    // Denied only when no node at all carries SCTP; a mix among the nodes pods usually land on is a warning.
    const a = everywhere.counts.ready === 0 ? everywhere : workloads;
    return judge(
      {
        use,
        scope: everywhere.counts.ready === 0 ? 'in the cluster' : 'that untolerating pods can run on',
        workload: false,
        maxSeverity: 'violation',
      },
      a,
      snapshot,
      policy,
    );
  }
  if (object.kind === 'NetworkPolicy') {
    const a = clusterWideAssessment(snapshot, policy).all;
    // Only "no node at all" is worth a word: a mix says nothing about where the selected pods run.
    if (a.counts.ready > 0 && !unusableReason(snapshot)) return pass();
    return judge({ use, scope: 'in the cluster', workload: false, maxSeverity: 'advisory' }, a, snapshot, policy);
  }
  const podSpec = podSpecOf(object)!;
  const daemonSet = object.kind === 'DaemonSet';
  const a = podAssessment(snapshot, podPlacement(podSpec, daemonSet), policy);
  return judge(
    {
      use,
      scope: daemonSet ? 'it runs on' : 'it can be scheduled on',
      workload: true,
      ...(daemonSet ? { daemonSetRoom: WARNING_MAX - messagePrefix(ID, input).length } : {}),
      maxSeverity: 'violation',
    },
    a,
    snapshot,
    policy,
  );
}

export const sctpModuleLoaded: Rule = {
  id: ID,
  description: 'SCTP Services, workloads and NetworkPolicies need nodes whose kernel loads the sctp module.',
  phase: 'validate',
  defaultEnforcement: 'deny',
  matches: [
    ...matchKinds(POD_KINDS, OPS, { sctpFields: SCTP_FIELDS.pod }),
    ...matchKinds([KINDS.Service], OPS, { sctpFields: SCTP_FIELDS.service }),
    ...matchKinds([KINDS.NetworkPolicy], OPS, { sctpFields: SCTP_FIELDS.networkPolicy }),
  ],
  clusterData: ['Node', 'MachineConfig', 'MachineConfigPool', 'ClusterVersion'],
  evaluate: evaluateSctpModuleLoaded,
};
