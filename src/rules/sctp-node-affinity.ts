import { podAssessment, poolsCarryingSctp, unusableReason } from '../cluster/assess.js';
import { podPlacement, type NodeSelectorTerm } from '../cluster/placement.js';
import { selectorRequirements } from '../cluster/selectors.js';
import type { ClusterSnapshot, LabelSelectorRequirement } from '../cluster/snapshot.js';
import { matchKinds } from './matches.js';
import type { KubeObject, Rule, RuleInput, Verdict } from '../engine/types.js';
import { advisory, edited, pass } from '../engine/verdict.js';
import { ruleParameters } from '../policy/parameters.js';
import type { Policy } from '../policy/types.js';
import { isRecord } from '../util/json.js';
import { POD_KINDS, podSpecPath } from '../util/kinds.js';
import { podSctpPorts, podSpecOf, SCTP_FIELDS } from './objects.js';

export const ID = 'sctp-node-affinity';

const REQUIRED = 'requiredDuringSchedulingIgnoredDuringExecution';

/** Mutation: pin SCTP Pods to the MachineConfigPools whose nodes carry SCTP (off unless the policy turns it on). */
const PARAMETERS = ruleParameters({ pinToSctpNodes: { type: 'boolean', default: false } });

/**
 * Candidate terms that keep a pod on nodes carrying SCTP: the policy's node label, or the nodeSelector of each
 * MachineConfigPool with a node that carries SCTP.
 */
function sctpTerms(snapshot: ClusterSnapshot, policy: Policy): LabelSelectorRequirement[][] {
  const label = policy.sctpNodeLabel;
  if (label)
    return [
      [
        label.value === undefined
          ? { key: label.key, operator: 'Exists' }
          : { key: label.key, operator: 'In', values: [label.value] },
      ],
    ];
  const carrying = new Set(poolsCarryingSctp(snapshot, policy));
  return snapshot.pools
    .filter((pool) => pool.nodeSelector && carrying.has(pool.name))
    .map((pool) => selectorRequirements(pool.nodeSelector!))
    .filter((reqs) => reqs.length > 0);
}

/** Existing terms AND the SCTP terms: required terms are ORed, so every pair is merged (a cross product). */
function mergedTerms(
  existing: NodeSelectorTerm[] | undefined,
  sctp: LabelSelectorRequirement[][],
): Record<string, unknown>[] {
  const own = existing ?? [{ matchExpressions: [], matchFields: [] }];
  return own.flatMap((term) =>
    sctp.map((reqs) => ({
      matchExpressions: [...term.matchExpressions, ...reqs].map((r) => ({
        key: r.key,
        operator: r.operator,
        ...(r.values && r.values.length > 0 ? { values: [...r.values] } : {}),
      })),
      ...(term.matchFields.length > 0 ? { matchFields: term.matchFields } : {}),
    })),
  );
}

const REQUIRED_AFFINITY = (terms: Record<string, unknown>[]) => ({
  nodeAffinity: { [REQUIRED]: { nodeSelectorTerms: terms } },
});

/** Sets the required node affinity of the pod spec, keeping the rest of its affinity. */
function pinTo(terms: Record<string, unknown>[]): (object: KubeObject) => void {
  return (object) => {
    const podSpec = podSpecOf(object)!;
    const affinity = isRecord(podSpec.affinity) ? podSpec.affinity : {};
    const nodeAffinity = isRecord(affinity.nodeAffinity) ? affinity.nodeAffinity : {};
    podSpec.affinity = { ...affinity, nodeAffinity: { ...nodeAffinity, [REQUIRED]: { nodeSelectorTerms: terms } } };
  };
}

/**
 * pinToSctpNodes: when only some of the nodes a pod could land on carry SCTP, add a required node affinity that
 * keeps it on those (the pools' own nodeSelector, or the policy's node label). The patched constraints are
 * checked again against the snapshot, so a pool selector that also matches nodes without SCTP is never used.
 */
function evaluateSctpNodeAffinity({ object, operation, snapshot, policy }: RuleInput): Verdict {
  if (!PARAMETERS.of(policy).pinToSctpNodes || !object?.kind) return pass();
  // A Pod's node affinity cannot change after creation; templates can.
  if (object.kind === 'Pod' && operation !== 'CREATE') return pass();
  const podSpec = podSpecOf(object);
  if (!podSpec || podSctpPorts(podSpec).length === 0 || unusableReason(snapshot)) return pass();
  const daemonSet = object.kind === 'DaemonSet';
  const placement = podPlacement(podSpec, daemonSet);
  const before = podAssessment(snapshot, placement, policy);
  // All fine, or nothing to pin to (sctp-module-loaded explains why).
  if (before.counts.ready === before.total || before.counts.ready === 0) return pass();
  // Keep each pool's term only when, with the pod's own constraints, it selects nodes that all carry SCTP: a
  // worker selector also matches custom-pool nodes that may not.
  const assessWith = (terms: Record<string, unknown>[]) =>
    podAssessment(snapshot, podPlacement({ ...podSpec, affinity: REQUIRED_AFFINITY(terms) }, daemonSet), policy);
  const usable = sctpTerms(snapshot, policy).filter((reqs) => {
    const a = assessWith(mergedTerms(placement.terms, [reqs]));
    return a.total > 0 && a.counts.ready === a.total;
  });
  const terms = mergedTerms(placement.terms, usable);
  const after = usable.length > 0 ? assessWith(terms) : undefined;
  if (!after || after.counts.ready !== after.total) {
    return advisory({
      text: 'pinToSctpNodes could not pin it: no MachineConfigPool selector (or sctpNodeLabel) selects only nodes that carry SCTP.',
      fix: 'add a nodeSelector for nodes that carry SCTP, or set sctpNodeLabel in the sctp-guard policy',
      summary: 'cannot pin to SCTP nodes: no pool selector matches only SCTP nodes',
    });
  }
  const base = `/${podSpecPath(object.kind)!.join('/')}`;
  const target = policy.sctpNodeLabel ? 'the sctpNodeLabel' : `pool ${after.readyPools.join(', ')}`;
  const note = advisory({
    text: `added a required node affinity for ${target} so its SCTP pods run only on the ${after.total} nodes that carry SCTP (pinToSctpNodes).`,
    summary: `pinned to ${target} (nodes that carry SCTP)`,
    path: `${base}/affinity`,
  });
  return edited(pinTo(terms), note.findings);
}

export const sctpNodeAffinity: Rule = {
  id: ID,
  description: 'pinToSctpNodes: keep SCTP pods on the MachineConfigPools whose nodes carry SCTP.',
  phase: 'mutate',
  defaultEnforcement: 'warn',
  matches: matchKinds(POD_KINDS, ['CREATE', 'UPDATE'], { sctpFields: SCTP_FIELDS.pod }),
  clusterData: ['Node', 'MachineConfig', 'MachineConfigPool'],
  parameters: PARAMETERS,
  evaluate: evaluateSctpNodeAffinity,
};
