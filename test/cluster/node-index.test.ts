import t from 'tap';
import fc from 'fast-check';
import { assess, podAssessment } from '../../src/cluster/assess.js';
import {
  effectiveStatus,
  podPlacement,
  podSelection,
  selectedNames,
  toleratesAll,
  type PodPlacement,
} from '../../src/cluster/placement.js';
import { reduce, type NodeRecord } from '../../src/cluster/records.js';
import { matchesRequirement } from '../../src/cluster/selectors.js';
import type { ClusterSnapshot, LabelSelectorRequirement } from '../../src/cluster/snapshot.js';
import { ClusterState } from '../../src/cluster/state.js';
import type { Policy } from '../../src/policy/types.js';
import { own } from '../../src/util/json.js';
import { node, scenario } from '../fixtures/cluster/builders.js';

/**
 * The indexed placement (set operations over label values) against the plain definition, node by node: the
 * scheduler's filters as selectors.ts and placement.ts state them for one node (matchesRequirement, toleratesAll).
 */

const NAMES = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8', 'n9', 'm0', 'm1'];
const KEYS = ['kubernetes.io/hostname', 'topology.kubernetes.io/zone', 'node-role.kubernetes.io/edge', 'cores', 'team'];
const VALUES = ['', 'a', 'b', '8', '64', '-3', 'n1'];
const ROLES = ['worker', 'edge', 'legacy', 'rollout', 'master'];
const CONFIGS = [
  'rendered-master-1',
  'rendered-worker-2',
  'rendered-edge-1',
  'rendered-legacy-1',
  'rendered-rollout-1',
  'rendered-rollout-2',
  'rendered-gone',
];
const TAINTS = [
  { key: 'node-role.kubernetes.io/master', effect: 'NoSchedule' },
  { key: 'dedicated', value: 'db', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
  { key: 'soft', effect: 'PreferNoSchedule' },
];
const TOLERATIONS = [
  { operator: 'Exists' },
  { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'dedicated', value: 'db' },
  { key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists' },
];

const nodeArb = (name: string) =>
  fc
    .record({
      roles: fc.subarray(ROLES),
      labels: fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES)),
      // kubelet's own value, none, or whatever another writer set.
      hostname: fc.constantFrom('own', 'none', 'label'),
      taints: fc.subarray(TAINTS),
      current: fc.option(fc.constantFrom(...CONFIGS), { nil: undefined }),
      desired: fc.option(fc.constantFrom(...CONFIGS), { nil: undefined }),
      state: fc.constantFrom('Done', 'Working'),
    })
    .map((o) => {
      const obj = node(name, { ...o, labels: o.labels });
      const labels = (obj.metadata as unknown as { labels: Record<string, string> }).labels;
      if (o.hostname === 'own') labels['kubernetes.io/hostname'] = name;
      if (o.hostname === 'none') delete labels['kubernetes.io/hostname'];
      return obj;
    });

const nodesArb = fc.subarray(NAMES, { minLength: 1 }).chain((names) => fc.tuple(...names.map((n) => nodeArb(n))));

const requirementArb: fc.Arbitrary<LabelSelectorRequirement> = fc.record({
  key: fc.constantFrom(...KEYS, 'absent', 'constructor'),
  operator: fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt', 'Bogus'),
  values: fc.subarray(VALUES),
});
const fieldArb: fc.Arbitrary<LabelSelectorRequirement> = fc.record({
  key: fc.constantFrom('metadata.name', 'metadata.name', 'spec.unschedulable'),
  operator: fc.constantFrom('In', 'NotIn', 'Exists'),
  values: fc.subarray([...NAMES, 'nope']),
});

const podArb = fc.record(
  {
    nodeName: fc.constantFrom(...NAMES, 'nope'),
    nodeSelector: fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 2 }),
    affinity: fc
      .array(
        fc.record({
          matchExpressions: fc.array(requirementArb, { maxLength: 3 }),
          matchFields: fc.array(fieldArb, { maxLength: 1 }),
        }),
        { maxLength: 3 },
      )
      .map((terms) => ({
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } },
      })),
    tolerations: fc.subarray(TOLERATIONS),
    hostNetwork: fc.boolean(),
  },
  { requiredKeys: [] },
);

const POLICIES: Array<Pick<Policy, 'sctpNodeLabel'>> = [
  { sctpNodeLabel: null },
  { sctpNodeLabel: { key: 'team' } },
  { sctpNodeLabel: { key: 'team', value: 'a' } },
];

function fieldMatches(name: string, r: LabelSelectorRequirement): boolean {
  if (r.key !== 'metadata.name') return false;
  if (r.operator === 'In') return (r.values ?? []).includes(name);
  return r.operator === 'NotIn' && !(r.values ?? []).includes(name);
}

/** Whether the pod can be scheduled on this one node. */
function fits(n: NodeRecord, p: PodPlacement): boolean {
  const name = n.metadata.name;
  if (!toleratesAll(n.taints, p.tolerations, p.nodeName !== undefined)) return false;
  if (p.nodeName !== undefined && p.nodeName !== name) return false;
  for (const [key, value] of Object.entries(p.nodeSelector))
    if (!matchesRequirement(own(n.labels, key), { key, operator: 'In', values: [value] })) return false;
  if (!p.terms) return true;
  return p.terms.some(
    (term) =>
      term.matchExpressions.length + term.matchFields.length > 0 &&
      term.matchExpressions.every((r) => matchesRequirement(own(n.labels, r.key), r)) &&
      term.matchFields.every((r) => fieldMatches(name, r)),
  );
}

const configObjects = () => {
  const s = scenario();
  return [...s.machineConfigs, ...s.pools];
};

function build(state: ClusterState): ClusterSnapshot {
  return { ...state.build('offline', true), ageSeconds: 0, stale: false };
}

function stateOf(objects: Array<Record<string, unknown>>): ClusterState {
  const state = new ClusterState();
  for (const o of objects) state.upsert(o.kind as 'Node', reduce(o.kind as 'Node', o));
  return state;
}

/** The assessment worked out node by node: each node's class state under the policy. */
function plainAssessment(s: ClusterSnapshot, names: string[], policy: Pick<Policy, 'sctpNodeLabel'>) {
  const counts = { ready: 0, 'not-ready': 0, pending: 0, unknown: 0 };
  const groups = new Map<string, { count: number; sample: string[] }>();
  const readyPools = new Set<string>();
  for (const name of [...names].sort()) {
    const cls = s.nodes.classOf(name)!;
    const status = effectiveStatus(cls, policy);
    counts[status.state]++;
    if (status.state === 'ready') {
      if (cls.pool) readyPools.add(cls.pool);
      continue;
    }
    const key = `${cls.pool ?? ''}|${status.state}|${status.reason}`;
    const g = groups.get(key) ?? { count: 0, sample: [] };
    g.count++;
    if (g.sample.length < 5) g.sample.push(name);
    groups.set(key, g);
  }
  return { counts, groups, readyPools: [...readyPools].sort() };
}

t.test('indexed placement and assessment equal the node-by-node definition', async (t) => {
  fc.assert(
    fc.property(nodesArb, podArb, fc.boolean(), (nodes, spec, daemonSet) => {
      const s = build(stateOf([...configObjects(), ...nodes]));
      const placement = podPlacement(spec, daemonSet);
      const records = nodes.map((o) => reduce('Node', o));
      const expected = records.filter((n) => fits(n, placement)).map((n) => n.metadata.name);
      const sel = podSelection(s.nodes, placement);
      t.same(selectedNames(s.nodes, sel, s.nodes.all).sort(), expected.sort(), 'placement');
      for (const policy of POLICIES) {
        const a = assess(s.nodes, sel, policy);
        const plain = plainAssessment(s, expected, policy);
        t.same(a.counts, plain.counts, 'counts');
        t.equal(a.total, expected.length, 'total');
        t.same(a.readyPools, plain.readyPools, 'ready pools');
        t.same(
          Object.fromEntries(
            a.lacking.map((g) => [`${g.pool ?? ''}|${g.state}|${g.reason}`, { count: g.count, sample: g.sample }]),
          ),
          Object.fromEntries(plain.groups),
          'groups of nodes lacking SCTP, with the first names',
        );
      }
    }),
    { numRuns: 300 },
  );
});

const opArb = fc.oneof(
  fc.constantFrom(...NAMES).chain((name) => nodeArb(name).map((o) => ({ upsert: o }))),
  fc.record({ remove: fc.constantFrom(...NAMES) }),
  fc.record({ removeConfig: fc.constantFrom('rendered-edge-1', 'rendered-rollout-2') }),
);

t.test('nodes changed in place answer as a snapshot built from scratch', async (t) => {
  fc.assert(
    fc.property(nodesArb, fc.array(opArb, { maxLength: 12 }), podArb, (nodes, ops, spec) => {
      const id = (o: Record<string, unknown>) => `${String(o.kind)}/${(o.metadata as { name: string }).name}`;
      const objects = new Map([...configObjects(), ...nodes].map((o) => [id(o), o]));
      const live = stateOf([...objects.values()]);
      build(live);
      for (const op of ops) {
        if ('upsert' in op) {
          objects.set(id(op.upsert), op.upsert);
          live.upsert('Node', reduce('Node', op.upsert));
        } else {
          const [kind, name] = 'remove' in op ? ['Node', op.remove] : ['MachineConfig', op.removeConfig];
          objects.delete(`${kind}/${name}`);
          live.remove(kind as 'Node', name);
        }
      }
      const a = build(live);
      const b = build(stateOf([...objects.values()]));
      const placement = podPlacement(spec);
      const names = (s: ClusterSnapshot) =>
        selectedNames(s.nodes, podSelection(s.nodes, placement), s.nodes.all).sort();
      t.same(names(a), names(b), 'placement');
      t.equal(a.nodes.size, b.nodes.size);
      for (const policy of POLICIES) {
        const [x, y] = [a, b].map((s) => assess(s.nodes, podSelection(s.nodes, placement), policy));
        t.same([x!.counts, x!.readyPools], [y!.counts, y!.readyPools], 'assessment');
      }
      const classes = (s: ClusterSnapshot) =>
        s.nodes.classes
          .map(({ labels, taints, pool, machineConfig, nodes }) => ({ labels, taints, pool, machineConfig, nodes }))
          .sort((p, q) => p.nodes[0]!.localeCompare(q.nodes[0]!));
      t.same(classes(a), classes(b), 'the same node classes');
    }),
    { numRuns: 200 },
  );
});

t.test('a Node event changes the index in place; a change no node depends on keeps it, and its caches', async (t) => {
  const s = scenario();
  const state = stateOf([...s.machineConfigs, ...s.pools, ...s.nodes]);
  const snapshot = build(state);
  const { version } = snapshot.nodes;
  const memo = podAssessment(snapshot, podPlacement({}), POLICIES[0]!);
  const moved = node('worker-1', { roles: ['worker'], current: 'rendered-worker-2', desired: 'rendered-rollout-2' });
  state.upsert('Node', reduce('Node', moved));
  t.equal(snapshot.nodes.classOf('worker-1')?.machineConfig.state, 'pending', 'seen without a rebuild');
  t.ok(snapshot.nodes.version > version);
  const after = snapshot.nodes.version;
  t.equal(build(state).nodes, snapshot.nodes, 'a rebuild keeps the same index');
  t.equal(snapshot.nodes.version, after, 'and restates no node');
  const unused = { ...s.machineConfigs.find((m) => m.metadata.name === 'rendered-edge-1')! };
  state.upsert('MachineConfig', reduce('MachineConfig', { ...unused, metadata: { name: 'rendered-edge-9' } }));
  build(state);
  t.equal(snapshot.nodes.version, after, 'a rendered config no node runs moves nothing');
  const kept = podAssessment(snapshot, podPlacement({}), POLICIES[0]!);
  t.not(kept, memo, 'the pod assessment of the old version is not reused');
  t.equal(podAssessment(snapshot, podPlacement({}), POLICIES[0]!), kept, 'but survives the config event');
  state.remove('MachineConfig', 'rendered-rollout-2');
  build(state);
  t.equal(snapshot.nodes.classOf('rollout-0')?.machineConfig.state, 'unknown', 'a config nodes run restates them');
});
