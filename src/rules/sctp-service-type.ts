import { matchKinds } from '../engine/matches.js';
import type { KubeObject, Rule, RuleInput } from '../engine/types.js';
import { KINDS } from '../util/kinds.js';
import { advisory, pass, violation } from '../engine/verdict.js';
import { portLabel, SCTP_FIELDS, serviceSctpPorts, serviceType } from './objects.js';

export const ID = 'sctp-service-type';

/** True when `oldObject` already had SCTP ports under the same type: the update did not cause the problem. */
function alreadyPresent(oldObject: KubeObject | null, type: string): boolean {
  return oldObject !== null && serviceSctpPorts(oldObject).length > 0 && serviceType(oldObject) === type;
}

export const sctpServiceType: Rule = {
  id: ID,
  description: 'SCTP Services must use a Service type that the platform can carry SCTP on.',
  phase: 'validate',
  defaultEnforcement: 'deny',
  matches: matchKinds([KINDS.Service], ['CREATE', 'UPDATE'], { sctpFields: SCTP_FIELDS.service }),
  evaluate({ object, oldObject, operation, policy }: RuleInput) {
    const ports = serviceSctpPorts(object);
    if (ports.length === 0) return pass();
    const type = serviceType(object);
    if (policy.allowedServiceTypes.includes(type)) return pass();

    const allowed = policy.allowedServiceTypes.join(', ') || '(none)';
    const what = `type ${type} cannot carry SCTP on this platform (ports ${ports.map(portLabel).join(', ')})`;
    const fix =
      `use type ${policy.allowedServiceTypes.join(' or ') || 'ClusterIP'}` +
      `, or, if your load balancer carries SCTP (AKO 1.9.1+), add ${type} to allowedServiceTypes in the sctp-guard policy (or use preset: ako)`;
    const text = `${what}; allowed types under preset ${policy.preset}: ${allowed}.`;
    const path = '/spec/type';
    if (operation === 'UPDATE' && alreadyPresent(oldObject, type)) {
      // The object predates the policy: block only changes that introduce the problem, never e.g. a finalizer removal.
      return advisory({ text, fix, path, summary: `existing SCTP Service of type ${type} is not carried here` });
    }
    return violation({ text, fix, path, summary: `type ${type} cannot carry SCTP; allowed: ${allowed}` });
  },
};
