import t, { type Test } from 'tap';
import { Informer } from '../../src/cluster/informers.js';
import { KubeApi } from '../../src/cluster/kube-api.js';
import { LiveClusterSource, liveApi, takeLiveSnapshot } from '../../src/cluster/live-source.js';
import { ClusterState } from '../../src/cluster/state.js';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.js';
import { Engine } from '../../src/engine/engine.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { evaluateRule } from '../../src/engine/engine.js';
import { sctpModuleLoaded } from '../../src/rules/sctp-module-loaded.js';
import { buildApp, buildProbeApp } from '../../src/server/app.js';
import { admissionReview, capturedLogger, ruleInput } from '../helpers/admission.js';
import { CORE_TYPES, FakeApiServer, OPENSHIFT_TYPES } from '../helpers/fake-apiserver.js';
import {
  docsFiles,
  filler,
  machineConfiguration,
  node,
  pool,
  rendered,
  scenario,
  sctpPod,
  sctpWorkload,
} from '../fixtures/cluster/builders.js';

const FAST = { initialMs: 20, maxMs: 160 };

async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  for (let waited = 0; waited < ms && !cond(); waited += 10) await new Promise((r) => setTimeout(r, 10));
  return cond();
}

function stateOf(s: ClusterSnapshot, name: string): string | undefined {
  return s.nodes.classOf(name)?.machineConfig.state;
}

async function cluster(t: Test, objects = scenario(), types?: ConstructorParameters<typeof FakeApiServer>[0]) {
  const api = new FakeApiServer(types);
  await api.start();
  t.teardown(() => api.stop());
  const served = types?.types ?? [...Object.values(CORE_TYPES), ...Object.values(OPENSHIFT_TYPES)];
  const has = (p: string) => served.some((x) => x.plural === p);
  for (const n of objects.nodes) api.upsert(CORE_TYPES.nodes, n);
  if (has('machineconfigs')) for (const m of objects.machineConfigs) api.upsert(OPENSHIFT_TYPES.machineconfigs, m);
  if (has('machineconfigpools')) for (const p of objects.pools) api.upsert(OPENSHIFT_TYPES.machineconfigpools, p);
  if (has('clusterversions')) for (const c of objects.clusterVersions) api.upsert(OPENSHIFT_TYPES.clusterversions, c);
  if (has('machineconfigurations'))
    api.upsert(OPENSHIFT_TYPES.machineconfigurations, machineConfiguration(['Disks', 'FileSystems']));
  const { logger, lines } = capturedLogger('debug');
  const kc = liveApi({ kubeconfig: api.writeKubeconfig(), env: {} })!;
  const ready: ClusterSnapshot[] = [];
  const source = new LiveClusterSource(kc, {
    logger,
    backoff: FAST,
    rebuildDelayMs: 5,
    stalenessLimitSeconds: 1,
    onReady: (snapshot) => ready.push(snapshot),
  });
  t.teardown(() => source.stop());
  return { api, source, lines, ready };
}

t.test('informers sync Nodes, MachineConfigs, pools and the ClusterVersion into a snapshot', async (t) => {
  const { api, source, ready } = await cluster(t);
  t.match(source.readiness(), {
    ready: false,
    reason: /^waiting for the API server: discovery at http:\/\/127\.0\.0\.1:\d+ not done yet$/,
  });
  t.equal(source.snapshot().stale, true, 'not synced yet: stale');
  await source.start();
  await source.waitForSync(5000);
  t.same(source.readiness(), { ready: true, reason: 'synced' });
  t.equal(ready.length, 1, 'onReady is called at the first sync');
  t.equal(ready[0]?.nodes.size, 12, 'with the synced snapshot');
  const s = source.snapshot();
  t.match(s, {
    source: 'live',
    stale: false,
    ageSeconds: 0,
    openshiftVersion: '4.12.30',
    renderedIgnitionVersion: '3.2.0',
    nodes: { size: 12 },
    machineConfigsAvailable: true,
  });
  t.equal(stateOf(s, 'worker-0'), 'ready', 'the docs 3.2.0 MachineConfig merged into rendered-worker-2');
  t.equal(stateOf(s, 'edge-1'), 'ready', 'the docs 2.2.0 form, translated into the rendered config');
  t.equal(stateOf(s, 'legacy-0'), 'not-ready', 'the blacklist is still there');
  t.equal(stateOf(s, 'rollout-0'), 'ready');
  t.equal(stateOf(s, 'rollout-1'), 'pending', 'mid-rollout');
  t.equal(stateOf(s, 'master-0'), 'not-ready');
  t.same(
    source.status().map((i) => [i.resource, i.synced, i.objects]),
    [
      ['nodes', true, 12],
      ['machineconfigs', true, 6],
      ['machineconfigpools', true, 5],
      ['clusterversions', true, 1],
      ['machineconfigurations', true, 1],
    ],
  );
  t.same(s.irreconcilableOverrides, ['Disks', 'FileSystems'], 'MachineConfiguration cluster: its storage overrides');
  t.ok(
    api.requests
      .filter((r) => r.watch)
      .every((r) => r.query.get('allowWatchBookmarks') === 'true' && r.query.get('resourceVersion')),
    'watches resume from the list and ask for bookmarks',
  );
  t.ok(
    api.requests.some((r) => r.path.endsWith('/machineconfigs') && r.query.get('limit') === '10'),
    'MachineConfigs come in small pages',
  );

  // The pool finishes its rollout: the node is Done on the new config.
  api.upsert(CORE_TYPES.nodes, node('rollout-1', { roles: ['worker', 'rollout'], current: 'rendered-rollout-2' }));
  t.ok(await until(() => stateOf(source.snapshot(), 'rollout-1') === 'ready'), 'rollout finished: ready');
  // A new rollout starts: desired moves on.
  api.upsert(
    CORE_TYPES.nodes,
    node('worker-2', { current: 'rendered-worker-2', desired: 'rendered-worker-3', state: 'Working' }),
  );
  t.ok(await until(() => stateOf(source.snapshot(), 'worker-2') === 'pending'));
  api.bookmark();
  api.remove(CORE_TYPES.nodes, 'legacy-1');
  t.ok(await until(() => source.snapshot().nodes.size === 11), 'deletes are seen');
  t.equal(ready.length, 1, 'onReady is called once, not at every rebuild');
});

t.test('a heartbeat that changes nothing sctp-guard reads keeps the snapshot', async (t) => {
  const { api, source } = await cluster(t);
  await source.start();
  await source.waitForSync(5000);
  const before = source.snapshot();
  api.upsert(
    CORE_TYPES.nodes,
    node('worker-0', {
      current: 'rendered-worker-2',
      status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: 'now' }] },
    }),
  );
  await until(() => source.status()[0]!.lastEventAt! > Date.now() - 50, 500);
  await new Promise((r) => setTimeout(r, 50));
  t.equal(source.snapshot().nodes.classes, before.nodes.classes, 'same classes object: no rebuild');
});

t.test('the snapshot object is kept while nothing in it changed', async (t) => {
  const { api, source } = await cluster(t);
  await source.start();
  await source.waitForSync(5000);
  const first = source.snapshot();
  t.equal(source.snapshot(), first, 'the same object: what a rule keeps per snapshot is reused');
  api.upsert(CORE_TYPES.nodes, node('legacy-0', { roles: ['worker', 'legacy'], current: 'rendered-worker-2' }));
  t.ok(await until(() => source.snapshot() !== first), 'a change that rebuilds the body makes a new one');
  t.equal(stateOf(source.snapshot(), 'legacy-0'), 'ready');
});

t.test('410 Gone re-lists; a clean watch end re-watches', async (t) => {
  const { api, source } = await cluster(t);
  await source.start();
  await source.waitForSync(5000);
  const lists = () => api.countRequests((r) => !r.watch && r.path === '/api/v1/nodes');
  t.equal(lists(), 1);
  api.endWatches();
  t.ok(await until(() => api.watcherCount() === 5), 're-watched after a clean end');
  api.upsert(CORE_TYPES.nodes, node('worker-9', { current: 'rendered-worker-2' }));
  t.ok(await until(() => stateOf(source.snapshot(), 'worker-9') === 'ready'));
  t.equal(lists(), 1, 'resumed from the resourceVersion, no re-list');
  api.expireWatches();
  api.remove(CORE_TYPES.nodes, 'worker-9');
  api.upsert(CORE_TYPES.nodes, node('worker-10', { current: 'rendered-worker-2' }));
  t.ok(
    await until(
      () => stateOf(source.snapshot(), 'worker-10') === 'ready' && stateOf(source.snapshot(), 'worker-9') === undefined,
    ),
    'the re-list saw the add and the delete',
  );
  t.ok(lists() >= 2, 'listed again after 410');
  t.same(source.readiness(), { ready: true, reason: 'synced' });
});

t.test(
  'a re-list reduces only the objects whose resourceVersion changed: a rendered config is not read again',
  async (t) => {
    const objects = scenario();
    const { api } = await cluster(t, objects);
    const state = new ClusterState();
    const stored: string[] = [];
    const upsert = state.upsert.bind(state);
    state.upsert = (kind, record) => (stored.push(record.metadata.name), upsert(kind, record));
    const informer = new Informer({
      api: liveApi({ kubeconfig: api.writeKubeconfig(), env: {} })!,
      kind: 'MachineConfig',
      state,
      logger: capturedLogger('debug').logger,
      backoff: FAST,
      onChange: () => {},
      onStatus: () => {},
    });
    t.teardown(() => informer.stop());
    await informer.start();
    t.equal(stored.length, objects.machineConfigs.length, 'each config reduced once by the first list');
    stored.length = 0;
    api.upsert(OPENSHIFT_TYPES.machineconfigs, rendered('rendered-worker-2', 'worker', filler(3, 64)));
    t.ok(await until(() => stored.length === 1), 'the modified config, from the watch');
    const lists = () => api.countRequests((r) => !r.watch && r.path.endsWith('/machineconfigs'));
    const listed = lists();
    api.expireWatches();
    t.ok(await until(() => lists() > listed && api.watcherCount() === 1), 'listed again after 410 Gone');
    t.same(stored, ['rendered-worker-2'], 'nothing reduced again by the re-list');
  },
);

t.test(
  'a dropped connection (an error that stops the ListWatch, or a clean end) is restarted and resumes',
  async (t) => {
    const { api, source, lines } = await cluster(t);
    await source.start();
    await source.waitForSync(5000);
    const watches = () => api.countRequests((r) => r.watch);
    const before = watches();
    api.dropWatches();
    t.ok(await until(() => api.watcherCount() === 5), 'all five watches are back');
    t.ok(watches() >= before + 4);
    api.upsert(CORE_TYPES.nodes, node('late', { current: 'rendered-legacy-1', roles: ['legacy'] }));
    t.ok(await until(() => stateOf(source.snapshot(), 'late') === 'not-ready'), 'events after the restart arrive');

    // An outage: every restart fails; the delay doubles up to the cap instead of a hot loop.
    api.outage = true;
    const duringStart = api.requests.length;
    api.dropWatches();
    await new Promise((r) => setTimeout(r, 1300));
    const attempts = api.requests.length - duringStart;
    // 4 informers, delays ~20, 40, 80, 160, 160... ms (±20%): about 10 attempts each in 1.3 s; a hot loop makes thousands.
    t.ok(attempts >= 8 && attempts <= 70, `bounded retries during the outage (${attempts})`);
    t.ok(source.snapshot().ageSeconds >= 1, 'the snapshot ages while the informers are down');
    t.equal(source.snapshot().stale, true, 'and turns stale past stalenessLimitSeconds');
    t.match(source.status()[0], { lastError: /503/ });
    t.ok(
      lines.some((l) => l.msg === 'cluster informer failed: restarting with backoff' && l.retryInMs !== undefined),
      'the failure is logged with the delay',
    );
    api.outage = false;
    t.ok(await until(() => api.watcherCount() === 5 && !source.snapshot().stale), 'recovered');
    t.equal(source.snapshot().ageSeconds, 0);
    t.ok(lines.some((l) => l.msg === 'cluster informer recovered'));
  },
);

t.test('plain Kubernetes: the missing MCO resources are detected once and skipped', async (t) => {
  const objects = scenario();
  const { api, source, lines } = await cluster(t, objects, { types: Object.values(CORE_TYPES) });
  await source.start();
  await source.waitForSync(5000);
  await new Promise((r) => setTimeout(r, 300));
  for (const p of ['machineconfigs', 'machineconfigpools', 'clusterversions', 'machineconfigurations']) {
    t.equal(
      api.countRequests((r) => r.path.endsWith(`/${p}`)),
      1,
      `${p}: one request, no retry`,
    );
  }
  t.match(source.readiness(), {
    ready: true,
    reason: /not served by this cluster: machineconfigs, machineconfigpools, clusterversions, machineconfigurations/,
  });
  t.equal(
    lines.filter((l) => /not served by the API server \(404\)/.test(String(l.msg))).length,
    4,
    'one warning each',
  );
  const s = source.snapshot();
  t.match(s, { stale: false, machineConfigsAvailable: false, nodes: { size: 12 } });
  t.notOk(s.openshiftVersion);
  t.ok(
    s.nodes.classes.every((c) => c.machineConfig.state === 'unknown'),
    'no MCO: node state unknown',
  );
  const warned = evaluateRule(sctpModuleLoaded, ruleInput(sctpPod() as never, { snapshot: s }));
  t.match(
    warned.findings,
    [{ severity: 'advisory', message: /unknownNodeState is warn/ }],
    'unknown state follows the policy',
  );
});

t.test('missing RBAC (403) is retried with backoff and shows in /readyz until it is fixed', async (t) => {
  const { api, source } = await cluster(t);
  api.forbid(OPENSHIFT_TYPES.machineconfigs);
  await source.start();
  t.ok(
    await until(() => source.status()[0]!.synced && api.countRequests((r) => r.path.endsWith('/machineconfigs')) >= 3),
    'retried',
  );
  t.match(source.readiness(), {
    ready: false,
    reason:
      /waiting for the first sync of machineconfigs \(list \/apis\/machineconfiguration\.openshift\.io\/v1\/machineconfigs: forbidden by RBAC \(403\): machineconfigs.machineconfiguration.openshift.io is forbidden/,
  });
  t.equal(source.snapshot().stale, true);
  api.allow(OPENSHIFT_TYPES.machineconfigs);
  await source.waitForSync(3000);
  t.same(source.readiness(), { ready: true, reason: 'synced' });
  t.equal(stateOf(source.snapshot(), 'worker-1'), 'ready');
});

t.test('5,000 nodes: paginated sync and correct decisions', async (t) => {
  const docs = docsFiles('3.2.0');
  const objects = {
    machineConfigs: [
      rendered('rendered-worker-1', 'worker', [...filler(1, 32), ...docs]),
      rendered('rendered-bulk-1', 'bulk', filler(1, 32)),
    ],
    pools: [
      pool('worker', { 'node-role.kubernetes.io/worker': '' }, 'rendered-worker-1'),
      pool('bulk', { 'node-role.kubernetes.io/bulk': '' }, 'rendered-bulk-1'),
    ],
    clusterVersions: [],
    nodes: Array.from({ length: 5000 }, (_, i) =>
      i % 2 === 0
        ? node(`w-${i}`, { current: 'rendered-worker-1', labels: { 'topology.kubernetes.io/zone': `z${i % 3}` } })
        : node(`b-${i}`, {
            roles: ['bulk'],
            current: 'rendered-bulk-1',
            labels: { 'topology.kubernetes.io/zone': `z${i % 3}` },
          }),
    ),
  };
  const { api, source } = await cluster(t, objects);
  await source.start();
  await source.waitForSync(20_000);
  const s = source.snapshot();
  t.equal(s.nodes.size, 5000);
  t.equal(
    api.countRequests((r) => !r.watch && r.path === '/api/v1/nodes'),
    10,
    '10 pages of 500',
  );
  t.ok(s.nodes.classes.length <= 6, `nodes fold into ${s.nodes.classes.length} classes`);
  const decide = (spec: Record<string, unknown>) =>
    evaluateRule(sctpModuleLoaded, ruleInput(sctpPod(spec) as never, { snapshot: s })).findings;
  t.match(decide({}), [{ severity: 'advisory', message: /only 2500 of the 5000 nodes/ }]);
  t.match(decide({ nodeSelector: { 'node-role.kubernetes.io/bulk': '' } }), [
    { severity: 'violation', message: /none of the 2500 nodes/ },
  ]);
  t.same(decide({ nodeSelector: { 'node-role.kubernetes.io/worker': '', 'topology.kubernetes.io/zone': 'z1' } }), []);
  t.same(decide({ nodeName: 'w-4998' }), []);
  t.match(decide({ nodeName: 'b-4999' }), [{ severity: 'violation', message: /none of the 1 nodes.*b-4999/ }]);
  t.match(
    decide({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['w-0', 'b-1', 'b-3'] }] },
            ],
          },
        },
      },
    }),
    [{ severity: 'advisory', message: /only 1 of the 3 nodes/ }],
  );
});

t.test('the admission server reads the live snapshot: a Service and a Deployment', async (t) => {
  const { api, source } = await cluster(t);
  const { logger } = capturedLogger();
  const app = buildApp({ engine: new Engine(ALL_RULES, defaultPolicy()), cluster: source, logger });
  t.teardown(() => app.close());
  const probes = buildProbeApp({ cluster: source, policy: defaultPolicy(), debug: true });
  t.teardown(() => probes.close());
  const notYet = await probes.inject({ method: 'GET', url: '/readyz' });
  t.match(
    { code: notYet.statusCode, body: notYet.json() },
    { code: 503, body: { reason: /waiting for the API server: discovery at / } },
  );
  await source.start();
  await source.waitForSync(5000);
  t.equal(
    (await probes.inject({ method: 'GET', url: '/readyz' })).statusCode,
    200,
    'ready after the first sync of every informer',
  );
  const post = async (obj: unknown) =>
    (await app.inject({ method: 'POST', url: '/validate', payload: admissionReview(obj as never) })).json().response;
  const legacy = { nodeSelector: { 'node-role.kubernetes.io/legacy': '' } };
  const denied = await post(sctpWorkload('Deployment', legacy));
  t.equal(denied.allowed, false);
  t.match(
    denied.status.message,
    /\[sctp-module-loaded\] Deployment telco\/sctp: SCTP port 30102\/SCTP in container server, but none of the 2 nodes it can be scheduled on carries SCTP.*pool legacy, 2 nodes \(legacy-0, legacy-1\): rendered-legacy-1 keeps the RHCOS \/etc\/modprobe.d\/sctp-blacklist.conf.*Fix: apply the OpenShift docs MachineConfig load-sctp-module to pool legacy/,
  );
  t.match(
    await post(sctpWorkload('Deployment', { nodeSelector: { 'node-role.kubernetes.io/worker': '' } })),
    { allowed: true },
    'worker (incl. the rollout pool) has one pending node: warned',
  );
  const svc = await post({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'sctp', namespace: 'telco' },
    spec: { type: 'NodePort', ports: [{ port: 30102, protocol: 'SCTP' }] },
  });
  t.match(svc, { allowed: true, warnings: [/\[sctp-module-loaded\] Service telco\/sctp: only 6 of 9 nodes/] });
  // Every node loses SCTP (a bad MachineConfig rolled out everywhere): Services are denied.
  for (const n of scenario().nodes)
    api.upsert(CORE_TYPES.nodes, {
      ...n,
      metadata: {
        ...n.metadata,
        annotations: {
          ...(n.metadata.annotations as object),
          'machineconfiguration.openshift.io/currentConfig': 'rendered-legacy-1',
          'machineconfiguration.openshift.io/desiredConfig': 'rendered-legacy-1',
          'machineconfiguration.openshift.io/state': 'Done',
        },
      },
    });
  t.ok(await until(() => source.snapshot().nodes.classes.every((c) => c.machineConfig.state === 'not-ready')));
  const svcDenied = await post({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'sctp', namespace: 'telco' },
    spec: { ports: [{ port: 30102, protocol: 'SCTP' }] },
  });
  t.match(svcDenied, { allowed: false, status: { message: /none of the 12 nodes in the cluster carries SCTP/ } });
  const nodes = (await probes.inject({ method: 'GET', url: '/debug/nodes?state=not-ready' })).json();
  t.equal(nodes.nodes.length, 12);
});

t.test('takeLiveSnapshot: start, sync, take, stop', async (t) => {
  const api = new FakeApiServer();
  await api.start();
  t.teardown(() => api.stop());
  for (const n of scenario().nodes) api.upsert(CORE_TYPES.nodes, n);
  const { logger } = capturedLogger();
  const kube = liveApi({ kubeconfig: api.writeKubeconfig(), env: {} })!;
  const s = await takeLiveSnapshot(kube, { logger, timeoutMs: 5000 });
  t.match(s, { source: 'live', stale: false, nodes: { size: 12 } });
  t.ok(await until(() => api.watcherCount() === 0), 'informers stopped');
  t.equal(liveApi({ env: {} }), undefined, 'no credentials anywhere: no API');
  api.outage = true;
  await t.rejects(
    takeLiveSnapshot(kube, { logger, timeoutMs: 300, backoff: FAST }),
    /not synced after 300 ms: waiting for the first sync of nodes/,
  );
});

t.test('credentials in kubectl order: flag, $KUBECONFIG, ~/.kube/config, in-cluster', async (t) => {
  const { liveCredentials } = await import('../../src/cluster/kubeconfig.js');
  const home = t.testdir({ '.kube': { config: 'apiVersion: v1\nkind: Config\n' } });
  t.same(liveCredentials({ kubeconfig: '/a', env: { KUBECONFIG: '/b:/c', HOME: home } }), { kubeconfig: '/a' });
  t.same(liveCredentials({ env: { KUBECONFIG: '/b:/c', HOME: home } }), { kubeconfig: '/b' });
  t.same(liveCredentials({ env: { HOME: home } }), { kubeconfig: `${home}/.kube/config` });
  t.equal(liveCredentials({ env: { HOME: '/nonexistent' } }), undefined, 'no credentials at all: offline');
});

t.test(
  'real-sized rendered configs: read with the contents sctp-guard never reads left out, same verdicts',
  async (t) => {
    // 40 files of 16 KB (CA bundles, kubelet and CRI-O files) beside the SCTP files: over 600 KB each.
    const bulk = filler(40, 12_000);
    const objects = {
      machineConfigs: [
        rendered('rendered-worker-1', 'worker', [...bulk, ...docsFiles('3.2.0')]),
        rendered('rendered-bulk-1', 'bulk', bulk),
      ],
      pools: [
        pool('worker', { 'node-role.kubernetes.io/worker': '' }, 'rendered-worker-1'),
        pool('bulk', { 'node-role.kubernetes.io/bulk': '' }, 'rendered-bulk-1'),
      ],
      clusterVersions: [],
      nodes: [
        node('w-1', { current: 'rendered-worker-1' }),
        node('b-1', { roles: ['bulk'], current: 'rendered-bulk-1' }),
      ],
    };
    const unread: Record<string, boolean> = {};
    const { list, watch } = KubeApi.prototype;
    KubeApi.prototype.list = function (path, options, onItem) {
      unread[`list ${path}`] = options.unread !== undefined;
      return list.call(this, path, options, onItem);
    };
    KubeApi.prototype.watch = function (path, rv, options, onEvent) {
      unread[`watch ${path}`] = options.unread !== undefined;
      return watch.call(this, path, rv, options, onEvent);
    };
    t.teardown(() => Object.assign(KubeApi.prototype, { list, watch }));
    const { api, source } = await cluster(t, objects);
    await source.start();
    await source.waitForSync(5000);
    t.equal(stateOf(source.snapshot(), 'w-1'), 'ready', 'listed: the SCTP files were read back');
    t.equal(stateOf(source.snapshot(), 'b-1'), 'not-ready');
    // The bulk pool gets the docs MachineConfig: a new rendered config arrives through the watch.
    api.upsert(OPENSHIFT_TYPES.machineconfigs, rendered('rendered-bulk-2', 'bulk', [...docsFiles('2.2.0'), ...bulk]));
    api.upsert(CORE_TYPES.nodes, node('b-1', { roles: ['bulk'], current: 'rendered-bulk-2' }));
    t.ok(await until(() => stateOf(source.snapshot(), 'b-1') === 'ready'), 'watched: the SCTP files were read back');
    t.same(
      Object.entries(unread)
        .filter(([, v]) => v)
        .map(([k]) => k)
        .sort(),
      [
        'list /apis/machineconfiguration.openshift.io/v1/machineconfigs',
        'watch /apis/machineconfiguration.openshift.io/v1/machineconfigs',
      ],
      'only MachineConfigs are read with values left out',
    );
  },
);
