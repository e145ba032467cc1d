import { matchKinds } from '../engine/matches.js';
import type { Rule, RuleCel, RuleInput } from '../engine/types.js';
import { KINDS } from '../util/kinds.js';
import { pass, violation } from '../engine/verdict.js';
import { portLabel, SCTP_FIELDS, serviceSctpPorts, serviceType } from './objects.js';
import type { Policy } from '../policy/types.js';
import { celPortLabels, celServiceType, celSctpItems, celExisting, celString, celStringList, ratchetedChecks } from './cel.js';

export const ID = 'sctp-service-type';

const FIX_TAIL = [', or, if your load balancer carries SCTP (AKO 1.9.1+), add ', ' to allowedServiceTypes in the sctp-guard policy (or use preset: ako)'] as const;
const fixTypes = (policy: Policy) => policy.allowedServiceTypes.join(' or ') || 'ClusterIP';

export const sctpServiceType: Rule = {
  id: ID,
  description: 'SCTP Services must use a Service type that the platform can carry SCTP on.',
  phase: 'validate',
  defaultEnforcement: 'deny',
  matches: matchKinds([KINDS.Service], ['CREATE', 'UPDATE'], { sctpFields: SCTP_FIELDS.service }),
  evaluate({ object, policy }: RuleInput) {
    const ports = serviceSctpPorts(object);
    if (ports.length === 0) return pass();
    const type = serviceType(object);
    if (policy.allowedServiceTypes.some((allowed) => allowed === type)) return pass();

    const allowed = policy.allowedServiceTypes.join(', ') || '(none)';
    const what = `type ${type} cannot carry SCTP on this platform (ports ${ports.map(portLabel).join(', ')})`;
    const fix = `use type ${fixTypes(policy)}${FIX_TAIL[0]}${type}${FIX_TAIL[1]}`;
    const text = `${what}; allowed types under preset ${policy.preset}: ${allowed}.`;
    return violation({
      text,
      fix,
      path: '/spec/type',
      summary: `type ${type} cannot carry SCTP; allowed: ${allowed}`,
      // Ratcheted by the type with its default, whichever ports: an old SCTP Service of the same type had the problem.
      ratchetKey: type,
      existingSummary: `existing SCTP Service of type ${type} is not carried here`,
    });
  },
  cel: serviceTypeCel,
};

/** The same check in CEL: a denial on CREATE and on updates that introduce the problem, a warning on the others. */
function serviceTypeCel(policy: Policy): RuleCel {
  const allowed = policy.allowedServiceTypes.join(', ') || '(none)';
  const fails = `size(variables.sctpPorts) > 0 && !(variables.type in ${celStringList(policy.allowedServiceTypes)})`;
  const text = `'type ' + variables.type + ' cannot carry SCTP on this platform (ports ' + ${celPortLabels('variables.sctpPorts')} + '); allowed types under preset ' + ${celString(`${policy.preset}: ${allowed}.`)}`;
  const fix = `${celString(`use type ${fixTypes(policy)}${FIX_TAIL[0]}`)} + variables.type + ${celString(FIX_TAIL[1])}`;
  return {
    variables: [
      { name: 'sctpPorts', expression: celSctpItems('object', ['spec', 'ports'], 'p') },
      { name: 'type', expression: celServiceType('object') },
      // alreadyPresent: the old object had SCTP ports under the same type.
      celExisting(`size(${celSctpItems('oldObject', ['spec', 'ports'], 'p')}) > 0 && (${celServiceType('oldObject')}) == variables.type`),
    ],
    checks: ratchetedChecks(fails, {
      text,
      fix,
      summary: `'type ' + variables.type + ' cannot carry SCTP; allowed: ' + ${celString(allowed)}`,
      existingSummary: `'existing SCTP Service of type ' + variables.type + ' is not carried here'`,
    }),
  };
}
