import type { Policy } from '../policy/types.js';
import {
  allCandidates,
  candidateNames,
  effectiveStatus,
  podCandidates,
  workloadCandidates,
  type Candidate,
  type PodPlacement,
} from './placement.js';
import type { ClusterSnapshot, SctpState } from './snapshot.js';

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

/** Tallies candidates by SCTP state under the policy, in O(classes). */
export function assess(candidates: readonly Candidate[], policy: Pick<Policy, 'sctpNodeLabel'>): Assessment {
  const counts: Record<SctpState, number> = { ready: 0, 'not-ready': 0, pending: 0, unknown: 0 };
  const groups = new Map<string, NodeGroup>();
  const readyPools = new Set<string>();
  let total = 0;
  for (const candidate of candidates) {
    const { cls, count } = candidate;
    const status = effectiveStatus(cls, policy);
    counts[status.state] += count;
    total += count;
    if (status.state === 'ready') {
      if (cls.pool) readyPools.add(cls.pool);
      continue;
    }
    const key = `${cls.pool ?? ''}|${status.state}|${status.reason}`;
    const group = groups.get(key) ?? {
      ...(cls.pool ? { pool: cls.pool } : {}),
      state: status.state,
      reason: status.reason,
      count: 0,
      sample: [],
      desiredCarriesSctp: status.desiredCarriesSctp === true,
    };
    group.count += count;
    for (const n of candidateNames(candidate)) {
      if (group.sample.length >= SAMPLE) break;
      group.sample.push(n);
    }
    groups.set(key, group);
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

// Keyed by the snapshot's classes, which stay the same object until the state is rebuilt (a live source hands
// out a fresh snapshot object per request, with the same classes).
const clusterWideCache = new WeakMap<object, Map<string, ClusterWideAssessment>>();

/**
 * What Services and NetworkPolicies are judged on does not depend on the object: computed once per snapshot
 * build and node-label policy, so a decision costs the same at 10 and at 10,000 nodes.
 */
export function clusterWideAssessment(
  snapshot: ClusterSnapshot,
  policy: Pick<Policy, 'sctpNodeLabel'>,
): ClusterWideAssessment {
  const byLabel = clusterWideCache.get(snapshot.classes) ?? new Map<string, ClusterWideAssessment>();
  clusterWideCache.set(snapshot.classes, byLabel);
  const key = JSON.stringify(policy.sctpNodeLabel);
  let found = byLabel.get(key);
  if (!found) {
    found = { all: assess(allCandidates(snapshot), policy), workloads: assess(workloadCandidates(snapshot), policy) };
    byLabel.set(key, found);
  }
  return found;
}

/** Pod assessments kept per snapshot build; past this many placements the memo starts over (bounded memory). */
const POD_MEMO_MAX = 256;
const podMemo = new WeakMap<object, Map<string, Assessment>>();

/**
 * `assess(podCandidates(snapshot, placement), policy)`, worked out once per snapshot build, placement and node-label
 * policy: the replicas of a workload, and most pods (no constraints, the same tolerations), share one placement,
 * so a decision does not walk the node classes again.
 */
export function podAssessment(
  snapshot: ClusterSnapshot,
  placement: PodPlacement,
  policy: Pick<Policy, 'sctpNodeLabel'>,
): Assessment {
  let memo = podMemo.get(snapshot.classes);
  if (!memo || memo.size >= POD_MEMO_MAX) podMemo.set(snapshot.classes, (memo = new Map()));
  const key = `${JSON.stringify(policy.sctpNodeLabel ?? null)}|${JSON.stringify(placement)}`;
  let found = memo.get(key);
  if (!found) memo.set(key, (found = assess(podCandidates(snapshot, placement), policy)));
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

/** The MachineConfigPools with at least one node that carries SCTP, sorted (O(node classes)). */
export function poolsCarryingSctp(snapshot: ClusterSnapshot, policy: Pick<Policy, 'sctpNodeLabel'>): string[] {
  const out = new Set<string>();
  for (const c of snapshot.classes) if (c.pool && effectiveStatus(c, policy).state === 'ready') out.add(c.pool);
  return [...out].sort();
}
