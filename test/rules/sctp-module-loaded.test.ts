import t from 'tap';
import fastJsonPatch from 'fast-json-patch';
import { EMPTY_SNAPSHOT } from '../../src/cluster/snapshot.js';
import { ClusterState } from '../../src/cluster/state.js';
import { reduce } from '../../src/cluster/records.js';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.js';
import { Engine, evaluateRule } from '../../src/engine/engine.js';
import { engineRequest } from '../../src/engine/request.js';
import type { KubeObject, RuleInput } from '../../src/engine/types.js';
import { WARNING_MAX } from '../../src/engine/verdict.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import type { Policy } from '../../src/policy/types.js';
import { describeLoadSctpModule } from '../../src/cluster/remediation.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { sctpModuleLoaded } from '../../src/rules/sctp-module-loaded.js';
import { sctpNodeAffinity } from '../../src/rules/sctp-node-affinity.js';
import { admissionReview, exampleObject, ruleInput, testApp } from '../helpers/admission.js';
import {
  docsFiles,
  node,
  pool,
  rendered,
  scenario,
  sctpPod,
  sctpService,
  sctpWorkload,
} from '../fixtures/cluster/builders.js';
import { scenarioSnapshot, snapshotOf } from '../fixtures/cluster/state.js';

const snapshot = scenarioSnapshot();
const policy = (over: Partial<Policy> = {}): Policy => ({ ...defaultPolicy(), ...over });
const run = (object: unknown, over: Partial<RuleInput> = {}) =>
  evaluateRule(sctpModuleLoaded, ruleInput(object as KubeObject, { snapshot, ...over }));
const legacy = { nodeSelector: { 'node-role.kubernetes.io/legacy': '' } };
const edge = { nodeSelector: { 'node-role.kubernetes.io/edge': '' } };

/** Only the masters and the legacy pool: no node carries SCTP. */
const noSctp = (() => {
  const s = scenario();
  return snapshotOf([
    ...s.nodes.filter((n) => /^(master|legacy)/.test(n.metadata.name)),
    ...s.machineConfigs,
    ...s.pools,
  ]);
})();

t.test('Services', async (t) => {
  const denied = run(sctpService(), { snapshot: noSctp });
  t.match(denied.findings, [{ severity: 'violation' }]);
  const [f] = denied.findings;
  t.match(
    f!.message,
    /^\[sctp-module-loaded\] Service telco\/sctp: SCTP port 30102\/SCTP, but none of the 5 nodes in the cluster carries SCTP/,
  );
  t.match(
    f!.message,
    'pool master, 3 nodes (master-0, master-1, master-2): rendered-master-1 keeps the RHCOS /etc/modprobe.d/sctp-blacklist.conf (blacklist sctp)',
  );
  t.match(f!.message, 'pool legacy, 2 nodes (legacy-0, legacy-1): rendered-legacy-1 keeps the RHCOS');
  t.match(
    f!.message,
    /Fix: apply the OpenShift docs MachineConfig load-sctp-module to pools legacy, master .*Ignition 3\.2\.0/,
  );
  t.match(
    f!.message,
    `Ignition 3.2.0, ${describeLoadSctpModule('3.x')} (examples/openshift-machineconfig-load-sctp-3.2.0.yaml)`,
    'quotes the MachineConfig remediate writes',
  );
  t.ok(f!.summary.length <= WARNING_MAX);
  const mixed = run(sctpService('mixed', 'NodePort'));
  t.match(mixed.findings, [
    {
      severity: 'advisory',
      summary:
        '[sctp-module-loaded] Service telco/mixed: only 6 of 9 nodes that untolerating pods can run on carry SCTP',
    },
  ]);
  t.match(
    mixed.findings[0]!.message,
    /pool legacy, 2 nodes.*pool rollout, 1 node \(rollout-1\): MachineConfig rollout in progress.*wait for the rollout of pool rollout to finish/,
  );
  const onlyGood = snapshotOf([
    ...scenario().nodes.filter((n) => /^(worker|edge|master)/.test(n.metadata.name)),
    ...scenario().machineConfigs,
    ...scenario().pools,
  ]);
  t.same(
    run(sctpService(), { snapshot: onlyGood }).findings,
    [],
    'every node pods can use carries SCTP (tainted masters do not count)',
  );
  t.same(run({ ...sctpService(), spec: { ports: [{ port: 80 }] } }, { snapshot: noSctp }).findings, [], 'no SCTP port');
});

t.test('Pods and every pod controller', async (t) => {
  t.same(run(sctpPod(edge)).findings, []);
  const pod = run(sctpPod(legacy));
  t.match(pod.findings, [
    {
      severity: 'violation',
      summary: '[sctp-module-loaded] Pod telco/sctp: none of the 2 nodes it can be scheduled on loads the sctp module',
    },
  ]);
  t.match(pod.findings[0]!.message, /or keep the pods on nodes that carry SCTP \(pool edge, rollout, worker\)/);
  t.match(run(sctpPod()).findings, [{ severity: 'advisory', summary: /only 6 of 9 nodes/ }]);
  t.match(
    run(
      sctpPod({
        containers: [
          { name: 'c', ports: [{ containerPort: 80 }, { containerPort: 9, hostPort: 9, protocol: 'sctp' }] },
        ],
        ...legacy,
      }),
    ).findings,
    [{ message: /SCTP port 9\/SCTP hostPort 9 in container c/ }],
  );
  t.same(
    run(sctpPod({ containers: [{ name: 'c', ports: [{ containerPort: 80 }] }], ...legacy })).findings,
    [],
    'no SCTP port',
  );
  for (const kind of ['Deployment', 'StatefulSet', 'ReplicaSet', 'Job', 'CronJob', 'DaemonSet']) {
    t.match(
      run(sctpWorkload(kind, legacy)).findings,
      [{ severity: 'violation', message: new RegExp(`^\\[sctp-module-loaded\\] ${kind} telco/sctp: `) }],
      kind,
    );
    t.same(run(sctpWorkload(kind, edge)).findings, [], `${kind} on SCTP nodes`);
  }
  t.same(
    run(exampleObject('openshift-sctp-pod.yaml', 'Pod'), {
      snapshot: snapshotOf([
        ...scenario().nodes.filter((n) => n.metadata.name.startsWith('worker')),
        ...scenario().machineConfigs,
        ...scenario().pools,
      ]),
    }).findings,
    [],
    'the docs Pod on the docs-configured workers',
  );
});

t.test('a DaemonSet landing on nodes without SCTP is warned, naming them', async (t) => {
  const ds = run(
    sctpWorkload('DaemonSet', { tolerations: [{ key: 'node-role.kubernetes.io/master', operator: 'Exists' }] }),
  );
  t.match(ds.findings, [
    {
      severity: 'advisory',
      summary:
        '[sctp-module-loaded] DaemonSet telco/sctp: no SCTP on 6 of 12 nodes: master-0, master-1, master-2, legacy-0 and 2 more',
    },
  ]);
  t.ok(ds.findings[0]!.summary.length <= WARNING_MAX);
});

t.test('NetworkPolicies are warned only when no node carries SCTP', async (t) => {
  const np = exampleObject('networkpolicy-sctp.yaml', 'NetworkPolicy', 'allow-sctp-on-http');
  t.match(run(np, { snapshot: noSctp }).findings, [
    {
      severity: 'advisory',
      summary: /NetworkPolicy default\/allow-sctp-on-http: none of the 5 nodes in the cluster loads the sctp module/,
    },
  ]);
  t.same(run(np).findings, []);
});

t.test('unknown node state follows unknownNodeState, never a silent allow', async (t) => {
  const pod = sctpPod(legacy);
  t.match(run(pod, { snapshot: EMPTY_SNAPSHOT }).findings, [
    { severity: 'advisory', message: /has no cluster state .*unknownNodeState is warn/ },
  ]);
  t.match(run(pod, { snapshot: EMPTY_SNAPSHOT, policy: policy({ unknownNodeState: 'deny' }) }).findings, [
    { severity: 'violation' },
  ]);
  const allowed = run(pod, { snapshot: EMPTY_SNAPSHOT, policy: policy({ unknownNodeState: 'allow' }) });
  t.same(allowed.findings, []);
  t.match(
    allowed.annotations,
    { 'unknown-node-state': /^allowed by unknownNodeState: \[sctp-module-loaded\] Pod telco\/sctp: unknown/ },
    'recorded in the audit annotations',
  );
  t.match(run(pod, { snapshot: { ...snapshot, stale: true, ageSeconds: 400 } }).findings, [
    { message: /cluster state is stale \(not synced for 400s\)/ },
  ]);
  t.match(
    run(exampleObject('networkpolicy-sctp.yaml', 'NetworkPolicy', 'allow-sctp-on-http'), {
      snapshot: EMPTY_SNAPSHOT,
      policy: policy({ unknownNodeState: 'deny' }),
    }).findings,
    [{ severity: 'advisory' }],
    'a NetworkPolicy is never denied',
  );
  const plain = snapshotOf([node('k8s-1'), node('k8s-2')]);
  const w = run(pod, { snapshot: plain });
  t.same(w.findings, [], 'plain Kubernetes: the legacy selector matches no node at all');
  const unknown = run(sctpPod(), { snapshot: plain }).findings;
  t.match(unknown, [
    { severity: 'advisory', message: /none is known to carry SCTP.*no MachineConfig data.*Fix: set sctpNodeLabel/ },
  ]);
  t.notMatch(unknown[0]!.message, /Fix: or /, 'an alternative with nothing before it is the fix itself');
});

t.test('sctpNodeLabel takes precedence over MachineConfigs', async (t) => {
  const labelled = snapshotOf([node('a', { labels: { 'feature.node.kubernetes.io/sctp': 'true' } }), node('b')]);
  const p = policy({ sctpNodeLabel: { key: 'feature.node.kubernetes.io/sctp', value: 'true' } });
  const mix = run(sctpPod(), { snapshot: labelled, policy: p });
  t.match(mix.findings, [
    {
      severity: 'advisory',
      message: /only 1 of the 2 nodes.*\(b\): no node label feature.node.kubernetes.io\/sctp=true/,
    },
  ]);
  t.same(
    run(sctpPod({ nodeSelector: { 'feature.node.kubernetes.io/sctp': 'true' } }), { snapshot: labelled, policy: p })
      .findings,
    [],
  );
  t.match(run(sctpPod({ nodeName: 'b' }), { snapshot: labelled, policy: p }).findings, [
    {
      severity: 'violation',
      message: /Fix: load sctp on the nodes and label them feature.node.kubernetes.io\/sctp=true/,
    },
  ]);
  t.match(
    run(sctpPod(edge), { policy: policy({ sctpNodeLabel: { key: 'nfd-sctp' } }) }).findings,
    [{ severity: 'violation' }],
    'the label wins even where the MachineConfig carries SCTP',
  );
});

t.test('an update of an object that already used SCTP is warned, not denied', async (t) => {
  const old = sctpWorkload('Deployment', legacy);
  const updated = { ...old, metadata: { ...old.metadata, labels: { v: '2' } } };
  t.match(run(updated, { operation: 'UPDATE', oldObject: old as KubeObject }).findings, [{ severity: 'advisory' }]);
  t.match(
    run(updated, { operation: 'UPDATE', oldObject: sctpWorkload('Deployment', legacy, 'x') as KubeObject }).findings,
    [{ severity: 'advisory' }],
  );
  const noSctpBefore = {
    ...old,
    spec: { ...(old.spec as object), template: { spec: { containers: [{ name: 'c' }] } } },
  };
  t.match(
    run(updated, { operation: 'UPDATE', oldObject: noSctpBefore as KubeObject }).findings,
    [{ severity: 'violation' }],
    'the update adds SCTP',
  );
  const movedOff = run(updated, { operation: 'UPDATE', oldObject: sctpWorkload('Deployment', edge) as KubeObject });
  t.match(movedOff.findings, [{ severity: 'violation' }], 'the update moves the pods off the nodes that carry SCTP');
});

t.test('a 2.x cluster is told the 2.2.0 form', async (t) => {
  const s = snapshotOf([
    node('w', { current: 'rendered-w-1' }),
    rendered('rendered-w-1', 'worker', [], '2.2.0'),
    pool('worker', { 'node-role.kubernetes.io/worker': '' }, 'rendered-w-1'),
  ]);
  t.equal(s.renderedIgnitionVersion, '2.2.0');
  t.match(
    run(sctpPod(), { snapshot: s }).findings[0]!.message,
    `Ignition 2.2.0, ${describeLoadSctpModule('2.x')} (examples/openshift-machineconfig-load-sctp-2.2.0.yaml)`,
  );
  const fixed = snapshotOf([
    node('w', { current: 'rendered-w-2' }),
    rendered('rendered-w-2', 'worker', docsFiles('2.2.0'), '2.2.0'),
  ]);
  t.same(run(sctpPod(), { snapshot: fixed }).findings, [], 'and the 2.2.0 form, rendered verbatim, counts');
});

t.test('the fix cites the form in the version the cluster renders, not always the 3.2.0 example', async (t) => {
  const at = (version: string) =>
    snapshotOf([
      node('w', { current: 'rendered-w-1' }),
      rendered('rendered-w-1', 'worker', [], version),
      pool('worker', { 'node-role.kubernetes.io/worker': '' }, 'rendered-w-1'),
    ]);
  t.match(
    run(sctpPod(), { snapshot: at('3.2.0') }).findings[0]!.message,
    /Ignition 3\.2\.0, .*overwrite: true \(examples\/openshift-machineconfig-load-sctp-3\.2\.0\.yaml\)/,
  );
  const on34 = run(sctpPod(), { snapshot: at('3.4.0') }).findings[0]!.message;
  t.match(on34, /Ignition 3\.4\.0, .*overwrite: true \(sctp-guard remediate -o yaml prints it in 3\.4\.0\)/);
  t.notMatch(on34, /3\.2\.0/);
  const pinned = run(sctpPod(), {
    snapshot: at('3.4.0'),
    policy: policy({ ignition: { ...defaultPolicy().ignition, targetVersion: '3.2.0' } }),
  }).findings[0]!.message;
  t.match(
    pinned,
    /Ignition 3\.2\.0, .*load-sctp-3\.2\.0\.yaml/,
    'a version fixed in the policy is the one MachineConfigs end up in',
  );
});

t.test('through the engine and the server: denial, warnings, audit line with the state age', async (t) => {
  const engine = new Engine(ALL_RULES, defaultPolicy());
  const req = (obj: KubeObject) => engineRequest({ object: obj, namespace: 'telco' });
  const d = engine.evaluate(req(sctpWorkload('Deployment', legacy) as KubeObject), snapshot, 'validate');
  t.equal(d.allowed, false);
  t.match(d.auditAnnotations, { 'sctp-module-loaded': /^deny: \[sctp-module-loaded\] Deployment telco\/sctp/ });
  t.equal(engine.evaluate(req(sctpWorkload('Deployment', edge) as KubeObject), snapshot, 'validate').allowed, true);

  const { app, auditLines } = testApp({ snapshot: { ...snapshot, source: 'live', ageSeconds: 3 } });
  t.teardown(() => app.close());
  const svc = (
    await app.inject({ method: 'POST', url: '/validate', payload: admissionReview(sctpService() as KubeObject) })
  ).json();
  t.match(svc.response, {
    allowed: true,
    warnings: [/^\[sctp-module-loaded\] Service telco\/sctp: only 6 of 9 nodes/],
  });
  const dep = (
    await app.inject({
      method: 'POST',
      url: '/validate',
      payload: admissionReview(sctpWorkload('Deployment', legacy) as KubeObject),
    })
  ).json();
  t.match(dep.response, {
    allowed: false,
    status: { code: 403, message: /\[sctp-module-loaded\] Deployment telco\/sctp: .*none of the 2 nodes/ },
  });
  t.match(auditLines.at(-1), {
    kind: 'Deployment',
    decision: 'deny',
    clusterStateAgeSeconds: 3,
    rules: [{ rule: 'sctp-module-loaded', decision: 'deny' }],
  });
  t.same(sctpModuleLoaded.matches.flatMap((m) => m.kinds.map((k) => k.kind)).sort(), [
    'CronJob',
    'DaemonSet',
    'Deployment',
    'Job',
    'NetworkPolicy',
    'Pod',
    'ReplicaSet',
    'ReplicationController',
    'Service',
    'StatefulSet',
  ]);
});

t.test('pinToSctpNodes adds a required node affinity from the pools that carry SCTP', async (t) => {
  const on = policy({ pinToSctpNodes: true });
  const mutate = (obj: unknown, over: Partial<RuleInput> = {}) =>
    evaluateRule(sctpNodeAffinity, ruleInput(obj as KubeObject, { snapshot, policy: on, ...over }));
  t.same(mutate(sctpPod(), { policy: policy() }).patch, [], 'off by default');
  const dep = sctpWorkload('Deployment');
  const v = mutate(dep);
  t.same(
    v.patch,
    [
      {
        op: 'add',
        path: '/spec/template/spec/affinity',
        value: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'node-role.kubernetes.io/edge', operator: 'In', values: [''] }] },
              ],
            },
          },
        },
      },
    ],
    'the worker selector also matches the rollout pool, where one node is pending: only edge is used',
  );
  t.match(v.findings, [
    {
      severity: 'advisory',
      summary: '[sctp-node-affinity] Deployment telco/sctp: pinned to pool edge (nodes that carry SCTP)',
    },
  ]);
  const pinned = fastJsonPatch.applyPatch(structuredClone(dep), v.patch as never).newDocument;
  t.same(run(pinned).findings, [], 'the validating rule is satisfied by the patched object');
  t.same(mutate(pinned).patch, [], 'idempotent on reinvocation');

  // Existing required terms are ANDed with the pool terms; matchFields kept.
  const withTerms = sctpPod({
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }],
        },
      },
    },
  });
  const narrowed = mutate(withTerms).patch;
  t.same(
    narrowed,
    [
      {
        op: 'add',
        path: '/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchExpressions/1',
        value: { key: 'node-role.kubernetes.io/edge', operator: 'In', values: [''] },
      },
    ],
    'the patch adds only the new requirement',
  );
  t.same((fastJsonPatch.applyPatch(structuredClone(withTerms), narrowed as never).newDocument.spec as any).affinity, {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [
          {
            matchExpressions: [
              { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
              { key: 'node-role.kubernetes.io/edge', operator: 'In', values: [''] },
            ],
          },
        ],
      },
    },
  });
  t.same(mutate(sctpPod(), { operation: 'UPDATE' }).patch, [], 'a Pod cannot change its affinity after creation');
  t.match(mutate(sctpWorkload('CronJob')).patch, [{ path: '/spec/jobTemplate/spec/template/spec/affinity' }]);
  t.same(mutate(sctpPod(legacy)).patch, [], 'nothing to pin to: the validating rule denies it');

  const labelled = snapshotOf([node('a', { labels: { sctp: 'yes' } }), node('b')]);
  t.match(
    mutate(sctpPod(), {
      snapshot: labelled,
      policy: policy({ pinToSctpNodes: true, sctpNodeLabel: { key: 'sctp', value: 'yes' } }),
    }).patch,
    [
      {
        path: '/spec/affinity',
        value: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'sctp', operator: 'In', values: ['yes'] }] }],
            },
          },
        },
      },
    ],
  );
  const onlyWorkerAndRollout = snapshotOf([
    ...scenario().nodes.filter((n) => /^(worker|rollout|legacy)/.test(n.metadata.name)),
    ...scenario().machineConfigs,
    ...scenario().pools,
  ]);
  const none = mutate(sctpPod({ nodeSelector: { 'node-role.kubernetes.io/worker': '' } }), {
    snapshot: onlyWorkerAndRollout,
  });
  t.same(none.patch, []);
  t.match(
    none.findings,
    [{ summary: /cannot pin to SCTP nodes/ }],
    'the worker selector also selects the pending rollout node',
  );
});

t.test('what the rule works out once per snapshot follows Node events that change the nodes in place', async (t) => {
  // One policy object, as the engine holds: what is kept is kept per policy too.
  const fixed = policy();
  const said = (snap: ClusterSnapshot, object: unknown) =>
    evaluateRule(sctpModuleLoaded, ruleInput(object as KubeObject, { snapshot: snap, policy: fixed })).findings.map(
      (f) => f.message,
    );
  for (const object of [sctpService(), sctpPod(), sctpWorkload('DaemonSet')]) {
    const s = scenario();
    const state = new ClusterState();
    for (const o of [...s.machineConfigs, ...s.pools, ...s.nodes])
      state.upsert(o.kind as 'Node', reduce(o.kind as 'Node', o));
    const live: ClusterSnapshot = { ...state.build('live', true), ageSeconds: 0, stale: false };
    const before = said(live, object);
    t.match(before.join(' '), /legacy-0, legacy-1/);
    // Node events change the index under the same snapshot object (the live source rebuilds the body later).
    state.remove('Node', 'legacy-1');
    state.upsert(
      'Node',
      reduce('Node', node('legacy-0', { roles: ['worker', 'legacy'], current: 'rendered-worker-2' })),
    );
    const after = said(live, object);
    t.not(after.join(' '), before.join(' '), `${String(object.kind)}: the words follow the nodes`);
    t.same(after, said({ ...live }, object), 'and are those of a snapshot seen for the first time');
  }
});
