import { matchKinds } from '../engine/matches.js';
import type { Rule, RuleInput } from '../engine/types.js';
import { KINDS } from '../util/kinds.js';
import { pass, violation } from '../engine/verdict.js';
import { gatewaySctpListeners, portLabel, SCTP_FIELDS } from './objects.js';

export const ID = 'sctp-gateway-listener';

export const sctpGatewayListener: Rule = {
  id: ID,
  description: 'Gateway listeners may use SCTP only where the policy says the gateway implementation carries it (AKO 1.9.1+).',
  phase: 'validate',
  defaultEnforcement: 'deny',
  matches: matchKinds([KINDS.ServiceApisGateway, KINDS.Gateway], ['CREATE', 'UPDATE'], { sctpFields: SCTP_FIELDS.gateway }),
  evaluate({ object, policy }: RuleInput) {
    const listeners = gatewaySctpListeners(object);
    if (listeners.length === 0 || policy.allowSctpGateways) return pass();
    return violation({
      text: `SCTP listener ${listeners.map(portLabel).join(', ')} is not carried by the gateway implementation under preset ${policy.preset}.`,
      fix: 'use a TCP/UDP listener, or, with AKO 1.9.1+ and Avi Controller 22.1.3+, set allowSctpGateways: true (or preset: ako) in the sctp-guard policy',
      summary: `SCTP listeners are not allowed by the policy (preset ${policy.preset})`,
      path: '/spec/listeners',
    });
  },
};
