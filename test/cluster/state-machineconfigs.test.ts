import t from 'tap';
import { reduce } from '../../src/cluster/records.js';
import { ClusterState, type SnapshotBody } from '../../src/cluster/state.js';
import { docsFiles, filler, node, rendered, scenario } from '../fixtures/cluster/builders.js';

type Obj = { kind?: string; metadata: { name: string } };

function stateOf(objects: Obj[]): ClusterState {
  const state = new ClusterState();
  for (const o of objects) state.upsert(o.kind as 'Node', reduce(o.kind as 'Node', o as never));
  return state;
}

const all = () => {
  const s = scenario();
  return [...s.nodes, ...s.machineConfigs, ...s.pools, ...s.clusterVersions] as Obj[];
};

t.test('a rendered MachineConfig no node runs yet leaves the node classes as they were', async (t) => {
  const state = stateOf(all());
  const before = state.build('live', true);
  state.upsert('MachineConfig', reduce('MachineConfig', rendered('rendered-worker-3', 'worker', filler(2, 64))));
  const { version } = before.nodes;
  const after = state.build('live', true);
  t.equal(after.nodes.version, version, 'no node placed again');
  t.equal(after.nodes.classes, before.nodes.classes, 'the same classes');
  t.ok(after.machineConfigNames?.includes('rendered-worker-3'), 'the new config is in the snapshot');
});

t.test('MachineConfig events the nodes run: the same snapshot as one built from scratch', async (t) => {
  const state = stateOf(all());
  state.build('live', true);
  const sameAsFresh = (objects: Obj[], what: string) => {
    // The node index compared by what it answers: classes with their members (slots and versions differ).
    const view = ({ nodes, ...rest }: SnapshotBody) => ({
      ...rest,
      classes: nodes.classes
        .map(({ labels, taints, pool, machineConfig, nodes: names }) => ({
          labels,
          taints,
          pool,
          machineConfig,
          names,
        }))
        .sort((a, b) => a.names[0]!.localeCompare(b.names[0]!)),
    });
    t.same(view(state.build('live', true)), view(stateOf(objects).build('live', true)), what);
  };
  const objects = all();
  const replace = (o: Obj) =>
    objects.splice(
      objects.findIndex((x) => x.kind === o.kind && x.metadata.name === o.metadata.name),
      1,
      o,
    );

  // The workers' current config loses the SCTP files.
  const worker = rendered('rendered-worker-2', 'worker', filler(2, 64));
  replace(worker);
  state.upsert('MachineConfig', reduce('MachineConfig', worker));
  sameAsFresh(objects, 'current config changed');

  // The config rollout-1 moves to (its desired config) loses them too.
  const target = rendered('rendered-rollout-2', 'rollout', filler(2, 64));
  replace(target);
  state.upsert('MachineConfig', reduce('MachineConfig', target));
  sameAsFresh(objects, 'desired config changed');

  // The masters' config is deleted, then a node moves to a config that arrives later.
  objects.splice(
    objects.findIndex((x) => x.metadata.name === 'rendered-master-1'),
    1,
  );
  state.remove('MachineConfig', 'rendered-master-1');
  sameAsFresh(objects, 'current config deleted');
  const moved = node('worker-0', { current: 'rendered-worker-4' });
  replace(moved as Obj);
  state.upsert('Node', reduce('Node', moved));
  sameAsFresh(objects, 'a node names a config not known yet');
  const late = rendered('rendered-worker-4', 'worker', docsFiles('3.2.0'));
  objects.push(late);
  state.upsert('MachineConfig', reduce('MachineConfig', late));
  sameAsFresh(objects, 'the config arrives');
});
