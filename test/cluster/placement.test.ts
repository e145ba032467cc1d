import t from 'tap';
import { assess, podAssessment } from '../../src/cluster/assess.js';
import { podPlacement, podSelection, selectedNames, workloadSelection } from '../../src/cluster/placement.js';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { node } from '../fixtures/cluster/builders.js';
import { scenarioSnapshot, snapshotOf } from '../fixtures/cluster/state.js';

const names = (snapshot: ClusterSnapshot, spec: Record<string, unknown>, daemonSet = false) =>
  selectedNames(snapshot.nodes, podSelection(snapshot.nodes, podPlacement(spec, daemonSet)), snapshot.nodes.all).sort();

t.test(
  'nodes group into classes by shared labels, taints, pool and state; the hostname is indexed per node',
  async (t) => {
    const s = scenarioSnapshot();
    t.equal(s.nodes.size, 12);
    t.equal(s.nodes.classes.length, 6, 'master, worker, edge, legacy, rollout ready, rollout pending');
    t.same(s.nodes.classes.find((c) => c.pool === 'worker')?.nodes, ['worker-0', 'worker-1', 'worker-2']);
    t.notOk('kubernetes.io/hostname' in s.nodes.classes[0]!.labels);
    t.same(selectedNames(s.nodes, { only: s.nodes.labelled('kubernetes.io/hostname', 'edge-1')! }, s.nodes.all), [
      'edge-1',
    ]);
    t.equal(s.nodes.classOf('rollout-1')?.machineConfig.state, 'pending');
  },
);

t.test('scheduling constraints', async (t) => {
  const s = scenarioSnapshot();
  const untainted = [
    'edge-0',
    'edge-1',
    'legacy-0',
    'legacy-1',
    'rollout-0',
    'rollout-1',
    'worker-0',
    'worker-1',
    'worker-2',
  ];
  t.same(names(s, {}), untainted, 'no constraint: every node without a NoSchedule taint');
  t.same(names(s, { tolerations: [{ operator: 'Exists' }] }).length, 12, 'tolerate everything');
  t.same(
    names(s, {
      tolerations: [{ key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' }],
      nodeSelector: { 'node-role.kubernetes.io/master': '' },
    }),
    ['master-0', 'master-1', 'master-2'],
  );
  t.same(
    names(s, {
      tolerations: [{ key: 'node-role.kubernetes.io/master', value: 'x', effect: 'NoSchedule' }],
      nodeSelector: { 'node-role.kubernetes.io/master': '' },
    }),
    [],
    'Equal with the wrong value',
  );
  t.same(names(s, { nodeSelector: { 'node-role.kubernetes.io/edge': '' } }), ['edge-0', 'edge-1']);
  t.same(names(s, { nodeName: 'legacy-1' }), ['legacy-1']);
  t.same(names(s, { nodeName: 'master-2' }), ['master-2'], 'nodeName bypasses NoSchedule taints');
  t.same(names(s, { nodeName: 'nope' }), []);
  t.same(names(s, { nodeSelector: { 'kubernetes.io/hostname': 'worker-1' } }), ['worker-1']);
  const affinity = (terms: unknown[]) => ({
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } },
  });
  t.same(
    names(
      s,
      affinity([
        { matchExpressions: [{ key: 'node-role.kubernetes.io/edge', operator: 'Exists' }] },
        { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['worker-0', 'master-0'] }] },
      ]),
    ),
    ['edge-0', 'edge-1', 'worker-0'],
    'terms are ORed; taints still apply',
  );
  t.same(
    names(
      s,
      affinity([
        {
          matchExpressions: [
            { key: 'node-role.kubernetes.io/worker', operator: 'Exists' },
            { key: 'kubernetes.io/hostname', operator: 'NotIn', values: ['worker-0', 'rollout-1'] },
          ],
        },
      ]),
    ),
    ['rollout-0', 'worker-1', 'worker-2'],
    'requirements are ANDed',
  );
  t.same(
    names(s, affinity([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['legacy-0', 'master-0'] }] }])),
    ['legacy-0'],
    'matchFields metadata.name (how DaemonSet pods are placed)',
  );
  t.same(
    names(
      s,
      affinity([
        {
          matchExpressions: [
            { key: 'node-role.kubernetes.io/legacy', operator: 'DoesNotExist' },
            { key: 'node-role.kubernetes.io/worker', operator: 'NotIn', values: [''] },
          ],
        },
      ]),
    ),
    ['edge-0', 'edge-1'],
  );
  t.same(names(s, affinity([{}])), [], 'an empty term matches nothing');
  t.same(
    names(s, {
      nodeSelector: { 'node-role.kubernetes.io/edge': '' },
      ...affinity([
        { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['edge-1', 'worker-1'] }] },
      ]),
    }),
    ['edge-1'],
    'nodeSelector AND affinity',
  );
});

t.test(
  'label keys that every object inherits (constructor, __proto__) are absent unless a node has them',
  async (t) => {
    const s = scenarioSnapshot();
    const affinity = (operator: string) => ({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: ['constructor', '__proto__', 'toString'].map((key) => ({ key, operator })) },
            ],
          },
        },
      },
    });
    t.same(names(s, affinity('Exists')), [], 'no node has these labels');
    t.same(names(s, affinity('DoesNotExist')).length, 9, 'every untainted node lacks them');
    t.same(names(s, { nodeSelector: { constructor: 'x' } }), []);
  },
);

t.test('Gt/Lt, DaemonSet tolerations, cordoned nodes', async (t) => {
  const s = snapshotOf([
    node('a', { labels: { cores: '64' } }),
    node('b', { labels: { cores: '8' } }),
    node('c', {
      labels: { cores: 'many' },
      taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }],
    }),
    node('d', {
      taints: [
        { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
        { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
      ],
    }),
    node('e', { taints: [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }] }),
    node('f', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] }),
  ]);
  const gt = {
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['16'] }] }],
        },
      },
    },
  };
  t.same(names(s, gt), ['a']);
  t.same(names(s, {}), ['a', 'b', 'f'], 'PreferNoSchedule never repels');
  t.same(
    names(s, {}, true),
    ['a', 'b', 'c', 'f'],
    'the DaemonSet controller tolerates unschedulable, and not-ready only for NoExecute',
  );
  t.same(
    names(s, { hostNetwork: true }, true),
    ['a', 'b', 'c', 'e', 'f'],
    'and network-unavailable for host-network pods',
  );
});

t.test('assessment counts states and groups the nodes that lack SCTP', async (t) => {
  const s = scenarioSnapshot();
  const a = assess(s.nodes, workloadSelection(s.nodes), defaultPolicy());
  t.same(a.counts, { ready: 6, 'not-ready': 2, pending: 1, unknown: 0 });
  t.same(a.readyPools, ['edge', 'rollout', 'worker']);
  t.match(a.lacking, [
    { pool: 'legacy', state: 'not-ready', count: 2, sample: ['legacy-0', 'legacy-1'], reason: /keeps the RHCOS/ },
    { pool: 'rollout', state: 'pending', count: 1, sample: ['rollout-1'], desiredCarriesSctp: true },
  ]);
  const labelled = assess(s.nodes, workloadSelection(s.nodes), {
    sctpNodeLabel: { key: 'node-role.kubernetes.io/edge' },
  });
  t.same(
    labelled.counts,
    { ready: 2, 'not-ready': 7, pending: 0, unknown: 0 },
    'the policy label wins over MachineConfigs',
  );
});

t.test('a pod assessment is worked out once per snapshot build, placement and node-label policy', async (t) => {
  const s = scenarioSnapshot();
  const policy = defaultPolicy();
  const placement = podPlacement({ nodeSelector: { 'node-role.kubernetes.io/edge': '' } });
  const first = podAssessment(s, placement, policy);
  t.same(
    first,
    assess(s.nodes, podSelection(s.nodes, placement), policy),
    'the same answer as assessing the candidates',
  );
  t.equal(
    podAssessment(
      { ...s, ageSeconds: 3 },
      podPlacement({ nodeSelector: { 'node-role.kubernetes.io/edge': '' } }),
      policy,
    ),
    first,
    'same build, same placement: kept',
  );
  t.not(podAssessment(s, podPlacement({}), policy), first, 'another placement');
  t.not(podAssessment(s, placement, { sctpNodeLabel: { key: 'sctp' } }), first, 'another node-label policy');
  t.not(podAssessment(scenarioSnapshot(), placement, policy), first, 'another build');
});
