import t from 'tap';
import { evaluateRule } from '../../src/engine/engine.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { sctpGatewayListener } from '../../src/rules/sctp-gateway-listener.js';
import { exampleObject, ruleInput } from '../helpers/admission.js';

t.test('an SCTP listener is a violation unless the policy allows SCTP gateways', async (t) => {
  const gw = exampleObject('ako-sctp-gateway.yaml', 'Gateway');
  const denied = evaluateRule(sctpGatewayListener, ruleInput(gw)).findings;
  t.equal(denied.length, 1);
  t.match(denied[0]!.message, /\[sctp-gateway-listener\] Gateway svcapi\/my-gateway: SCTP listener 6060\/SCTP/);
  t.match(denied[0]!.message, /allowSctpGateways: true/);
  t.same(evaluateRule(sctpGatewayListener, ruleInput(gw, { policy: defaultPolicy('ako') })).findings, []);
  const tcp = { ...gw, spec: { listeners: [{ port: 80, protocol: 'TCP' }] } };
  t.same(evaluateRule(sctpGatewayListener, ruleInput(tcp)).findings, []);
});

t.test('both Gateway API groups are matched', async (t) => {
  const groups = sctpGatewayListener.matches.map((m) => m.group);
  t.same(groups.sort(), ['gateway.networking.k8s.io', 'networking.x-k8s.io']);
});
