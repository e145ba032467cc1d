import { matchKinds } from './matches.js';
import type { Rule, RuleCel, RuleInput } from '../engine/types.js';
import { KINDS } from '../util/kinds.js';
import { pass, violation } from '../engine/verdict.js';
import { portLabel, SCTP_FIELDS, serviceSctpPorts, serviceType } from './objects.js';
import { ruleParameters } from '../policy/parameters.js';
import type { Policy } from '../policy/types.js';
import { memoByObject } from '../util/memo.js';
import {
  celPortLabels,
  celServiceType,
  celSctpItems,
  celExisting,
  celString,
  celStringList,
  ratchetedChecks,
} from './cel.js';

export const ID = 'sctp-service-type';

const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const;

/**
 * Service types that carry SCTP on this platform; a missing `spec.type` means ClusterIP. openshift-baremetal (the
 * default): ClusterIP and NodePort (OpenShift docs, "Using SCTP on a bare-metal cluster"); `ako`: AKO 1.9.1+ with
 * Avi Controller 22.1.3+ adds LoadBalancer.
 */
const PARAMETERS = ruleParameters(
  {
    allowedServiceTypes: {
      type: 'array',
      uniqueItems: true,
      items: { enum: SERVICE_TYPES },
      default: ['ClusterIP', 'NodePort'],
    },
  },
  { ako: { allowedServiceTypes: ['ClusterIP', 'NodePort', 'LoadBalancer'] } },
);

/**
 * Where the list of allowed types comes from, said in every denial: the list is a support policy, not a datapath
 * limit. Under openshift-baremetal it is OpenShift's documented support statement ("Using SCTP on a bare-metal
 * cluster": ClusterIP and NodePort); MetalLB and OVN-Kubernetes do not drop SCTP themselves (MetalLB only
 * advertises the address, the CNI carries the traffic: metallb/metallb issue 2875). A list set in the policy file is
 * the policy's own.
 */
function allowedSource(policy: Policy): string {
  const preset = PARAMETERS.preset(policy.preset).allowedServiceTypes;
  const { allowedServiceTypes } = PARAMETERS.of(policy);
  const own = preset.length !== allowedServiceTypes.length || preset.some((t) => !allowedServiceTypes.includes(t));
  if (own) return 'the allowedServiceTypes of the sctp-guard policy';
  if (policy.preset === 'openshift-baremetal') {
    return "OpenShift's documented SCTP support on bare metal, which preset openshift-baremetal enforces (MetalLB and OVN-Kubernetes do not drop SCTP themselves: metallb/metallb#2875)";
  }
  return `preset ${policy.preset}`;
}

/** What a denial says that depends only on the policy, worked out once per policy. */
const denialWords = memoByObject((policy: Policy) => {
  const { allowedServiceTypes } = PARAMETERS.of(policy);
  return {
    allowed: allowedServiceTypes.join(', ') || '(none)',
    fixTypes: allowedServiceTypes.join(' or ') || 'ClusterIP',
    source: allowedSource(policy),
  };
});
/** The policy switch: the type joins allowedServiceTypes (outside the support statement), or preset ako for AKO 1.9.1+. */
const FIX_TAIL = [
  ', or add ',
  ' to allowedServiceTypes in the sctp-guard policy to accept it (preset: ako when AKO 1.9.1+ carries your load balancers)',
] as const;
const TEXT = [' ports ', ' of type ', ' are outside '] as const;

export const sctpServiceType: Rule = {
  id: ID,
  description:
    "SCTP Services must use a Service type the policy allows (by default, OpenShift's documented SCTP support on bare metal: ClusterIP and NodePort).",
  phase: 'validate',
  defaultEnforcement: 'deny',
  matches: matchKinds([KINDS.Service], ['CREATE', 'UPDATE'], { sctpFields: SCTP_FIELDS.service }),
  parameters: PARAMETERS,
  evaluate({ object, policy }: RuleInput) {
    const ports = serviceSctpPorts(object);
    if (ports.length === 0) return pass();
    const type = serviceType(object);
    const { allowedServiceTypes } = PARAMETERS.of(policy);
    if (allowedServiceTypes.some((allowed) => allowed === type)) return pass();

    const { allowed, fixTypes, source } = denialWords(policy);
    const fix = `use type ${fixTypes}${FIX_TAIL[0]}${type}${FIX_TAIL[1]}`;
    const text = `SCTP${TEXT[0]}${ports.map(portLabel).join(', ')}${TEXT[1]}${type}${TEXT[2]}${source}; allowed types: ${allowed}.`;
    return violation({
      text,
      fix,
      path: '/spec/type',
      summary: `SCTP on type ${type} is outside the allowed types: ${allowed}`,
      // Ratcheted by the type with its default, whichever ports: an old SCTP Service of the same type had the problem.
      ratchetKey: type,
      existingSummary: `existing SCTP Service of type ${type} is outside the allowed types`,
    });
  },
  cel: serviceTypeCel,
};

/** The same check in CEL: a denial on CREATE and on updates that introduce the problem, a warning on the others. */
function serviceTypeCel(policy: Policy): RuleCel {
  const { allowedServiceTypes } = PARAMETERS.of(policy);
  const { allowed, fixTypes, source } = denialWords(policy);
  const fails = `size(variables.sctpPorts) > 0 && !(variables.type in ${celStringList(allowedServiceTypes)})`;
  const text = `${celString(`SCTP${TEXT[0]}`)} + ${celPortLabels('variables.sctpPorts')} + ${celString(TEXT[1])} + variables.type + ${celString(`${TEXT[2]}${source}; allowed types: ${allowed}.`)}`;
  const fix = `${celString(`use type ${fixTypes}${FIX_TAIL[0]}`)} + variables.type + ${celString(FIX_TAIL[1])}`;
  return {
    variables: [
      { name: 'sctpPorts', expression: celSctpItems('object', ['spec', 'ports'], 'p') },
      { name: 'type', expression: celServiceType('object') },
      // alreadyPresent: the old object had SCTP ports under the same type.
      celExisting(
        `size(${celSctpItems('oldObject', ['spec', 'ports'], 'p')}) > 0 && (${celServiceType('oldObject')}) == variables.type`,
      ),
    ],
    checks: ratchetedChecks(fails, {
      text,
      fix,
      summary: `'SCTP on type ' + variables.type + ' is outside the allowed types: ' + ${celString(allowed)}`,
      existingSummary: `'existing SCTP Service of type ' + variables.type + ' is outside the allowed types'`,
    }),
  };
}
