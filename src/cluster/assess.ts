import type { Policy } from '../policy/types.js';
import type { NodeIndex, StatusGroup } from './node-index.js';
import { NO_MEMBERS, type Members } from './node-sets.js';
import {
  ALL_NODES,
  both,
  labelStatus,
  podSelection,
  selectedCount,
  selectedNames,
  workloadSelection,
  type PodPlacement,
  type Selection,
} from './placement.js';
import type { ClusterSnapshot, SctpState, SctpStatus } from './snapshot.js';
import { memoByObject } from '../util/memo.js';

/** Nodes that share a pool and an SCTP state and reason: one line of a denial. */
export interface NodeGroup {
  pool?: string;
  state: SctpState;
  reason: string;
  count: number;
  /** Up to `SAMPLE` names, for messages. */
  sample: string[];
  desiredCarriesSctp: boolean;
}

export interface Assessment {
  total: number;
  counts: Record<SctpState, number>;
  /** Groups of nodes that do not (or may not) carry SCTP, largest first. */
  lacking: NodeGroup[];
  /** Pools with at least one node that carries SCTP. */
  readyPools: string[];
}

const SAMPLE = 5;

/**
 * Tallies the selected nodes by SCTP state under the policy, one set intersection per pool and state (plus one
 * with the policy's node label), so the cost never follows the number of nodes.
 */
export function assess(nodes: NodeIndex, sel: Selection, policy: Pick<Policy, 'sctpNodeLabel'>): Assessment {
  const counts: Record<SctpState, number> = { ready: 0, 'not-ready': 0, pending: 0, unknown: 0 };
  const groups = new Map<string, NodeGroup>();
  const readyPools = new Set<string>();
  let total = 0;
  const label = policy.sctpNodeLabel;
  const withLabel: Members | undefined = label
    ? ((label.value === undefined ? nodes.withLabel(label.key) : nodes.labelled(label.key, label.value)) ?? NO_MEMBERS)
    : undefined;
  // Under a node-label policy the label decides, within each pool: the nodes with it and those without.
  const parts: Array<[Selection, (g: StatusGroup) => SctpStatus]> =
    label && withLabel
      ? [
          [both(sel, { only: withLabel }), () => labelStatus(label, true)],
          [both(sel, { except: withLabel }), () => labelStatus(label, false)],
        ]
      : [[sel, (g) => g.status]];
  for (const statusGroup of nodes.statusGroups()) {
    for (const [part, statusOf] of parts) {
      const count = selectedCount(part, statusGroup.nodes);
      if (count === 0) continue;
      const status = statusOf(statusGroup);
      const pool = statusGroup.pool;
      counts[status.state] += count;
      total += count;
      if (status.state === 'ready') {
        if (pool) readyPools.add(pool);
        continue;
      }
      const key = `${pool ?? ''}|${status.state}|${status.reason}`;
      const group = groups.get(key) ?? {
        ...(pool ? { pool } : {}),
        state: status.state,
        reason: status.reason,
        count: 0,
        sample: [],
        desiredCarriesSctp: status.desiredCarriesSctp === true,
      };
      group.count += count;
      group.sample = [...group.sample, ...selectedNames(nodes, part, statusGroup.nodes, SAMPLE)]
        .sort()
        .slice(0, SAMPLE);
      groups.set(key, group);
    }
  }
  return {
    total,
    counts,
    lacking: [...groups.values()].sort((a, b) => b.count - a.count),
    readyPools: [...readyPools].sort(),
  };
}

export interface ClusterWideAssessment {
  /** Every node. */
  all: Assessment;
  /** The nodes an ordinary (untolerating) pod can land on. */
  workloads: Assessment;
}

/** Assessments per node-label policy (and placement), valid while the node index keeps its version. */
interface Memo {
  version: number;
  clusterWide: Map<string, ClusterWideAssessment>;
  pods: Map<string, Assessment>;
}
const memos = new WeakMap<NodeIndex, Memo>();

/** The memo key of a policy's node label, worked out once per policy. */
const labelKey = memoByObject((policy: Pick<Policy, 'sctpNodeLabel'>) => JSON.stringify(policy.sctpNodeLabel ?? null));

/** Past this many placements the pod memo starts over (bounded memory). */
const POD_MEMO_MAX = 256;

function memoOf(nodes: NodeIndex): Memo {
  let memo = memos.get(nodes);
  if (memo?.version !== nodes.version)
    memos.set(nodes, (memo = { version: nodes.version, clusterWide: new Map(), pods: new Map() }));
  return memo;
}

/**
 * What Services and NetworkPolicies are judged on does not depend on the object: computed once per node-index
 * version and node-label policy, so it survives every change that touched no node.
 */
export function clusterWideAssessment(
  snapshot: ClusterSnapshot,
  policy: Pick<Policy, 'sctpNodeLabel'>,
): ClusterWideAssessment {
  const { nodes } = snapshot;
  const memo = memoOf(nodes).clusterWide;
  const key = labelKey(policy);
  let found = memo.get(key);
  if (!found) {
    found = { all: assess(nodes, ALL_NODES, policy), workloads: assess(nodes, workloadSelection(nodes), policy) };
    memo.set(key, found);
  }
  return found;
}

/**
 * `assess(nodes, podSelection(nodes, placement), policy)`, kept per node-index version, placement and node-label
 * policy: the replicas of a workload, and most pods (no constraints, the same tolerations), share one placement.
 */
export function podAssessment(
  snapshot: ClusterSnapshot,
  placement: PodPlacement,
  policy: Pick<Policy, 'sctpNodeLabel'>,
): Assessment {
  const { nodes } = snapshot;
  const memo = memoOf(nodes);
  if (memo.pods.size >= POD_MEMO_MAX) memo.pods.clear();
  const key = `${labelKey(policy)}|${JSON.stringify(placement)}`;
  let found = memo.pods.get(key);
  if (!found) memo.pods.set(key, (found = assess(nodes, podSelection(nodes, placement), policy)));
  return found;
}

/** Why node state cannot be used at all, or undefined when it can. */
export function unusableReason(snapshot: ClusterSnapshot): string | undefined {
  if (snapshot.source === 'none')
    return 'sctp-guard has no cluster state (run it in the cluster, or with --kubeconfig or --cluster-state)';
  if (snapshot.stale)
    return `the cluster state is stale (${snapshot.ageSeconds > 0 ? `not synced for ${snapshot.ageSeconds}s` : 'informers not synced yet'})`;
  return undefined;
}

/** The MachineConfigPools with at least one node that carries SCTP, sorted. */
export function poolsCarryingSctp(snapshot: ClusterSnapshot, policy: Pick<Policy, 'sctpNodeLabel'>): string[] {
  return clusterWideAssessment(snapshot, policy).all.readyPools;
}
