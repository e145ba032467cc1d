import t from 'tap';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ClusterStateError, loadClusterState } from '../../src/cluster/offline.js';
import { capturedLogger, EXAMPLES_DIR } from '../helpers/admission.js';
import { createClusterSource } from '../../src/cluster/source.js';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.js';
import { scenario } from '../fixtures/cluster/builders.js';
import { scenarioSnapshot } from '../fixtures/cluster/state.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'sctp-guard-state-'));

function statesOf(snapshot: ReturnType<typeof loadClusterState>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of snapshot.nodes.classes) for (const n of c.nodes) out[n] = c.machineConfig.state;
  return out;
}

t.test('the example state that npm start serves', async (t) => {
  const s = loadClusterState(join(EXAMPLES_DIR, 'cluster-state'));
  t.match(s, {
    source: 'offline',
    stale: false,
    ageSeconds: 0,
    renderedIgnitionVersion: '3.4.0',
    openshiftVersion: '4.14.12',
    nodes: { size: 8 },
    machineConfigsAvailable: true,
  });
  t.same(statesOf(s), {
    'infra-0': 'ready',
    'infra-1': 'pending',
    'master-0': 'not-ready',
    'master-1': 'not-ready',
    'master-2': 'not-ready',
    'worker-0': 'ready',
    'worker-1': 'ready',
    'worker-2': 'ready',
  });
  t.same(
    s.nodes.classes.map((c) => c.pool).sort(),
    ['infra', 'infra', 'master', 'worker'],
    'infra nodes also carry the worker role: the custom pool wins',
  );
  t.same(
    s.pools.map((p) => p.name),
    ['infra', 'master', 'worker'],
  );
  t.match(
    s.pools.find((p) => p.name === 'infra'),
    { currentConfig: 'rendered-infra-0a1', targetConfig: 'rendered-infra-7f2', updatedMachineCount: 1 },
  );
});

t.test(
  'files, multi-document streams, List kinds, JSON and sub-directories give the same snapshot as the objects',
  async (t) => {
    const dir = tmp();
    const { nodes, machineConfigs, pools, clusterVersions } = scenario();
    writeFileSync(join(dir, 'nodes.json'), JSON.stringify({ apiVersion: 'v1', kind: 'NodeList', items: nodes }));
    writeFileSync(join(dir, 'mcs.yaml'), machineConfigs.map((m) => stringify(m)).join('---\n'));
    mkdirSync(join(dir, 'more'));
    writeFileSync(
      join(dir, 'more', 'pools.yml'),
      stringify({ apiVersion: 'v1', kind: 'List', items: [...pools, ...clusterVersions] }),
    );
    writeFileSync(join(dir, 'more', 'other.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: ignored}\n---\n');
    writeFileSync(join(dir, 'notes.txt'), 'not: [yaml');
    const loaded = loadClusterState(dir);
    const built = scenarioSnapshot();
    t.same(statesOf(loaded), statesOf(built));
    t.equal(loaded.nodes.size, 12);
    t.equal(loaded.openshiftVersion, '4.12.30');
    t.equal(loaded.renderedIgnitionVersion, '3.2.0');
  },
);

t.test('bad files are errors with file and line', async (t) => {
  const dir = tmp();
  writeFileSync(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: Node\nmetadata:\n  name: [unclosed\n');
  t.throws(() => loadClusterState(dir), {
    name: 'ClusterStateError',
    message: new RegExp(`^${join(dir, 'a.yaml')}:\\d+: `),
  });
  const dir2 = tmp();
  writeFileSync(
    join(dir2, 'b.yaml'),
    'apiVersion: v1\nkind: List\nitems:\n  - kind: Node\n    metadata:\n      labels: {}\n',
  );
  const err = (() => {
    try {
      loadClusterState(dir2);
    } catch (e) {
      return e as ClusterStateError;
    }
    return undefined;
  })();
  t.ok(err instanceof ClusterStateError);
  t.equal(err?.line, 5, 'points at the metadata of the nameless Node');
  t.match(err?.message, 'Node without metadata.name');
  const dir3 = tmp();
  writeFileSync(join(dir3, 'c.yaml'), '- just\n- a list\n');
  t.throws(() => loadClusterState(dir3), /c.yaml:1: expected a Kubernetes object/);
  t.throws(() => loadClusterState(join(dir3, 'missing')), /cannot read cluster state directory/);
  t.throws(() => loadClusterState(join(dir3, 'c.yaml')), /not a directory/);
});

t.test('a cluster source calls onReady once, with the snapshot decisions will read', async (t) => {
  const { logger } = capturedLogger();
  const loaded: ClusterSnapshot[] = [];
  const offline = await createClusterSource({
    clusterState: join(EXAMPLES_DIR, 'cluster-state'),
    logger,
    onReady: (s) => loaded.push(s),
  });
  t.equal(loaded.length, 0, 'not before start');
  await offline.start();
  t.equal(loaded.length, 1);
  t.equal(loaded[0], offline.snapshot(), 'the loaded state');
  const none: ClusterSnapshot[] = [];
  const empty = await createClusterSource({ logger, env: {}, onReady: (s) => none.push(s) });
  await empty.start();
  t.same(
    none.map((s) => s.source),
    ['none'],
    'no cluster state: at start, with the empty snapshot',
  );
});
