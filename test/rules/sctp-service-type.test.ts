import t from 'tap';
import { evaluateRule } from '../../src/engine/engine.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { sctpServiceType } from '../../src/rules/sctp-service-type.js';
import type { KubeObject } from '../../src/engine/types.js';
import { exampleObject, ruleInput } from '../helpers/admission.js';

const svc = (type: string | undefined, protocol = 'SCTP'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 's', namespace: 'ns' },
  spec: {
    ...(type ? { type } : {}),
    ports: [
      { name: 'sig', port: 3868, protocol },
      { port: 80, protocol: 'TCP' },
    ],
  },
});

t.test('types in allowedServiceTypes pass; others are violations naming the types and the fix', async (t) => {
  t.same(evaluateRule(sctpServiceType, ruleInput(svc('ClusterIP'))).findings, []);
  t.same(evaluateRule(sctpServiceType, ruleInput(svc('NodePort'))).findings, []);
  t.same(evaluateRule(sctpServiceType, ruleInput(svc(undefined))).findings, [], 'no type means ClusterIP');
  const lb = evaluateRule(sctpServiceType, ruleInput(svc('LoadBalancer'))).findings;
  t.equal(lb.length, 1);
  t.equal(lb[0]!.severity, 'violation');
  t.match(
    lb[0]!.message,
    /^\[sctp-service-type\] Service ns\/s: SCTP ports sig \(3868\/SCTP\) of type LoadBalancer are outside OpenShift's documented SCTP support on bare metal/,
  );
  // The list is a support policy, not a datapath limit: the message says so and where to switch it.
  t.match(lb[0]!.message, /MetalLB and OVN-Kubernetes do not drop SCTP themselves: metallb\/metallb#2875/);
  t.match(lb[0]!.message, /add LoadBalancer to allowedServiceTypes in the sctp-guard policy/);
  t.notMatch(lb[0]!.message, /cannot carry/);
  t.match(lb[0]!.message, /ClusterIP, NodePort/);
  t.ok(lb[0]!.summary.length < 120);
  t.same(
    evaluateRule(sctpServiceType, ruleInput(svc('LoadBalancer', 'TCP'))).findings,
    [],
    'no SCTP port: not our business',
  );
  t.same(
    evaluateRule(sctpServiceType, ruleInput(svc('LoadBalancer', 'sctp'))).findings.length,
    1,
    'protocol is case-insensitive',
  );
});

t.test('the ako preset allows LoadBalancer; a custom list is honoured', async (t) => {
  t.same(
    evaluateRule(
      sctpServiceType,
      ruleInput(exampleObject('ako-sctp-loadbalancer.yaml', 'Service'), { policy: defaultPolicy('ako') }),
    ).findings,
    [],
  );
  const policy = { ...defaultPolicy(), allowedServiceTypes: ['NodePort' as const] };
  const own = evaluateRule(sctpServiceType, ruleInput(svc('ClusterIP'), { policy })).findings;
  t.equal(own.length, 1);
  t.match(
    own[0]!.message,
    /are outside the allowedServiceTypes of the sctp-guard policy; allowed types: NodePort\./,
    "a list of its own is the policy's, not OpenShift's",
  );
});

t.test(
  'updates: removing SCTP is never blocked; a pre-existing problem only warns; introducing one is denied',
  async (t) => {
    const removed = evaluateRule(
      sctpServiceType,
      ruleInput(svc('LoadBalancer', 'TCP'), { operation: 'UPDATE', oldObject: svc('LoadBalancer') }),
    );
    t.same(removed.findings, []);
    const existing = evaluateRule(
      sctpServiceType,
      ruleInput(svc('LoadBalancer'), { operation: 'UPDATE', oldObject: svc('LoadBalancer') }),
    );
    t.equal(existing.findings[0]!.severity, 'advisory');
    const introduced = evaluateRule(
      sctpServiceType,
      ruleInput(svc('LoadBalancer'), { operation: 'UPDATE', oldObject: svc('ClusterIP') }),
    );
    t.equal(introduced.findings[0]!.severity, 'violation');
  },
);

t.test('malformed Services do not throw', async (t) => {
  for (const spec of [
    null,
    'x',
    { ports: 'x' },
    { ports: [null, 1, { protocol: 5 }] },
    { type: 7, ports: [{ protocol: 'SCTP' }] },
  ]) {
    t.doesNotThrow(() =>
      evaluateRule(sctpServiceType, ruleInput({ apiVersion: 'v1', kind: 'Service', spec } as KubeObject)),
    );
  }
});
