import { matchKinds } from './matches.js';
import type { Rule, RuleCel, RuleInput } from '../engine/types.js';
import { KINDS } from '../util/kinds.js';
import { pass, violation } from '../engine/verdict.js';
import { gatewaySctpListeners, portLabel, SCTP_FIELDS } from './objects.js';
import { ruleParameters } from '../policy/parameters.js';
import type { Policy } from '../policy/types.js';
import { celPortLabels, celExisting, celSctpItems, celString, celUnchanged, ratchetedChecks } from './cel.js';

export const ID = 'sctp-gateway-listener';

/** AKO 1.9.1+ carries SCTP on Gateway listeners: preset ako allows them. */
const PARAMETERS = ruleParameters(
  { allowSctpGateways: { type: 'boolean', default: false } },
  {
    ako: { allowSctpGateways: true },
  },
);

const FIX =
  'use a TCP/UDP listener, or, with AKO 1.9.1+ and Avi Controller 22.1.3+, set allowSctpGateways: true (or preset: ako) in the sctp-guard policy';

export const sctpGatewayListener: Rule = {
  id: ID,
  description:
    'Gateway listeners may use SCTP only where the policy says the gateway implementation carries it (AKO 1.9.1+).',
  phase: 'validate',
  defaultEnforcement: 'deny',
  matches: matchKinds([KINDS.ServiceApisGateway, KINDS.Gateway], ['CREATE', 'UPDATE'], {
    sctpFields: SCTP_FIELDS.gateway,
  }),
  parameters: PARAMETERS,
  evaluate({ object, policy }: RuleInput) {
    const listeners = gatewaySctpListeners(object);
    if (listeners.length === 0 || PARAMETERS.of(policy).allowSctpGateways) return pass();
    return violation({
      text: `SCTP listener ${listeners.map(portLabel).join(', ')} is not carried by the gateway implementation under preset ${policy.preset}.`,
      fix: FIX,
      summary: `SCTP listeners are not allowed by the policy (preset ${policy.preset})`,
      path: '/spec/listeners',
    });
  },
  cel: gatewayListenerCel,
};

/** The same check in CEL; nothing to check when the policy allows SCTP listeners. */
function gatewayListenerCel(policy: Policy): RuleCel {
  if (PARAMETERS.of(policy).allowSctpGateways) return { variables: [], checks: [] };
  const text = `'SCTP listener ' + ${celPortLabels('variables.listeners')} + ${celString(` is not carried by the gateway implementation under preset ${policy.preset}.`)}`;
  const summary = celString(`SCTP listeners are not allowed by the policy (preset ${policy.preset})`);
  return {
    variables: [
      { name: 'listeners', expression: celSctpItems('object', ['spec', 'listeners'], 'l') },
      // The engine's UPDATE ratcheting: the same problem at the same path with the same value there (src/engine/ratchet.ts).
      celExisting(celUnchanged(['spec', 'listeners'])),
    ],
    checks: ratchetedChecks('size(variables.listeners) > 0', { text, fix: celString(FIX), summary }),
  };
}
