import t from 'tap';
import { EMPTY_SNAPSHOT } from '../../src/cluster/snapshot.js';
import { Engine, evaluateRule } from '../../src/engine/engine.js';
import { engineRequest } from '../../src/engine/request.js';
import type { KubeObject } from '../../src/engine/types.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { sctpHostPortPartial } from '../../src/rules/sctp-hostport-partial.js';
import { ruleInput } from '../helpers/admission.js';
import { sctpPod, sctpWorkload } from '../fixtures/cluster/builders.js';
import { scenarioSnapshot } from '../fixtures/cluster/state.js';

const snapshot = scenarioSnapshot();
const run = (object: unknown, snap = snapshot) =>
  evaluateRule(sctpHostPortPartial, ruleInput(object as KubeObject, { snapshot: snap })).findings;
const hostPortSpec = (extra: Record<string, unknown> = {}) => ({
  containers: [{ name: 'server', ports: [{ containerPort: 30102, hostPort: 30102, protocol: 'SCTP' }] }],
  ...extra,
});

t.test(
  'an SCTP hostPort on a pod that can land on nodes without SCTP is warned, naming the port and the fix',
  async (t) => {
    const [f, ...rest] = run(sctpPod(hostPortSpec()));
    t.equal(rest.length, 0);
    t.equal(f!.severity, 'advisory');
    t.equal(
      f!.summary,
      '[sctp-hostport-partial] Pod telco/sctp: SCTP hostPort works on only 6 of 9 nodes it can be scheduled on',
    );
    t.match(
      f!.message,
      /^\[sctp-hostport-partial\] Pod telco\/sctp: SCTP hostPort 30102\/SCTP \(container server\) works only on a node that carries SCTP, and only 6 of the 9 nodes/,
    );
    t.match(f!.message, /Fix: keep it on pool edge, rollout, worker with a nodeSelector or node affinity/);
    t.equal(f!.path, '/spec');
    t.equal(run(sctpWorkload('Deployment', hostPortSpec()))[0]!.path, '/spec/template/spec', 'pod controllers too');
  },
);

t.test('silent without a hostPort, on nodes that all carry SCTP, on none, or without cluster state', async (t) => {
  t.same(run(sctpPod()), [], 'SCTP port without hostPort: sctp-module-loaded speaks');
  t.same(
    run(sctpPod(hostPortSpec({ nodeSelector: { 'node-role.kubernetes.io/edge': '' } }))),
    [],
    'every candidate node carries SCTP',
  );
  t.same(
    run(sctpPod(hostPortSpec({ nodeSelector: { 'node-role.kubernetes.io/legacy': '' } }))),
    [],
    'no candidate carries SCTP: sctp-module-loaded denies',
  );
  t.same(run(sctpPod(hostPortSpec()), EMPTY_SNAPSHOT), [], 'unknown state: unknownNodeState is sctp-module-loaded’s');
  const tcp = { containers: [{ name: 'server', ports: [{ containerPort: 80, hostPort: 80 }] }] };
  t.same(run(sctpPod(tcp)), []);
});

t.test('registered: the engine runs it on the validate phase and its default enforcement is warn', async (t) => {
  t.ok(ALL_RULES.includes(sctpHostPortPartial));
  const pod = sctpPod(hostPortSpec()) as KubeObject;
  const d = new Engine(ALL_RULES, defaultPolicy()).evaluate(
    engineRequest({ object: pod, namespace: 'telco' }),
    snapshot,
    'validate',
  );
  t.equal(d.allowed, true);
  t.ok(d.warnings.some((w) => w.startsWith('[sctp-hostport-partial] Pod telco/sctp: ')));
  t.match(
    d.results.find((r) => r.rule === 'sctp-hostport-partial'),
    { decision: 'warn', enforcement: 'warn' },
  );
});
