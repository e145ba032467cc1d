import { podAssessment, poolsCarryingSctp, unusableReason } from '../cluster/assess.js';
import { podPlacement } from '../cluster/placement.js';
import { matchKinds } from './matches.js';
import type { Rule, RuleInput, Verdict } from '../engine/types.js';
import { advisory, pass } from '../engine/verdict.js';
import { POD_KINDS, podSpecPath } from '../util/kinds.js';
import { podSctpPorts, podSpecOf, SCTP_FIELDS, type ContainerPortRef } from './objects.js';

export const ID = 'sctp-hostport-partial';

function hostPortLabel(p: ContainerPortRef): string {
  return `${String(p.hostPort)}/SCTP (container ${p.container})`;
}

/**
 * An SCTP hostPort is served by the node the pod runs on: the kernel of that node terminates the associations. When
 * only some of the nodes the pod can land on load the sctp module, whether the hostPort works depends on where the
 * scheduler puts it. When none does (or the state is unknown), sctp-module-loaded speaks instead.
 */
function evaluate({ object, snapshot, policy }: RuleInput): Verdict {
  const podSpec = podSpecOf(object);
  const hostPorts = podSctpPorts(podSpec).filter((p) => p.hostPort !== undefined);
  if (!podSpec || !object?.kind || hostPorts.length === 0 || unusableReason(snapshot)) return pass();
  const a = podAssessment(snapshot, podPlacement(podSpec, object.kind === 'DaemonSet'), policy);
  const { ready } = a.counts;
  if (a.total === 0 || ready === 0 || ready === a.total) return pass();
  const pools = poolsCarryingSctp(snapshot, policy);
  const keep = pools.length > 0 ? `pool ${pools.join(', ')}` : 'the nodes that carry SCTP';
  return advisory({
    text: `SCTP hostPort ${hostPorts.map(hostPortLabel).join(', ')} works only on a node that carries SCTP, and only ${ready} of the ${a.total} nodes it can be scheduled on do; a replica placed on another node cannot serve it.`,
    fix: `keep it on ${keep} with a nodeSelector or node affinity (or set pinToSctpNodes in the sctp-guard policy), or load sctp on the other nodes`,
    summary: `SCTP hostPort works on only ${ready} of ${a.total} nodes it can be scheduled on`,
    path: `/${podSpecPath(object.kind)!.join('/')}`,
  });
}

export const sctpHostPortPartial: Rule = {
  id: ID,
  description:
    'An SCTP hostPort on a pod that can land on nodes without SCTP works only where the scheduler happens to put it.',
  phase: 'validate',
  defaultEnforcement: 'warn',
  matches: matchKinds(POD_KINDS, ['CREATE', 'UPDATE'], { sctpFields: SCTP_FIELDS.pod }),
  clusterData: ['Node', 'MachineConfig', 'MachineConfigPool'],
  evaluate,
};
