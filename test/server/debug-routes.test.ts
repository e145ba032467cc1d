import t from 'tap';
import { EMPTY_SNAPSHOT } from '../../src/cluster/snapshot.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { testProbeApp } from '../helpers/admission.js';
import { scenarioSnapshot } from '../fixtures/cluster/state.js';

t.test('GET /debug/nodes lists every node with its SCTP state and reason', async (t) => {
  const app = testProbeApp({ snapshot: scenarioSnapshot(), debug: true });
  t.teardown(() => app.close());
  const res = await app.inject({ method: 'GET', url: '/debug/nodes' });
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.match(body, {
    source: 'offline',
    stale: false,
    nodeCount: 12,
    openshiftVersion: '4.12.30',
    renderedIgnitionVersion: '3.2.0',
    counts: { ready: 6, 'not-ready': 5, pending: 1, unknown: 0 },
  });
  t.equal(body.nodes.length, 12);
  t.same(
    body.nodes.find((n: { name: string }) => n.name === 'legacy-0'),
    {
      name: 'legacy-0',
      pool: 'legacy',
      state: 'not-ready',
      reason: 'rendered-legacy-1 keeps the RHCOS /etc/modprobe.d/sctp-blacklist.conf (blacklist sctp)',
      config: 'rendered-legacy-1',
    },
  );
  t.match(
    body.nodes.find((n: { name: string }) => n.name === 'rollout-1'),
    { state: 'pending', reason: /rollout in progress \(state Working, rendered-rollout-1 → rendered-rollout-2\)/ },
  );
  const pending = (await app.inject({ method: 'GET', url: '/debug/nodes?state=pending' })).json();
  t.same(
    pending.nodes.map((n: { name: string }) => n.name),
    ['rollout-1'],
  );
  const bad = await app.inject({ method: 'GET', url: '/debug/nodes?state=maybe' });
  t.equal(bad.statusCode, 400);
  t.match(bad.json(), { reason: 'state must be one of ready, not-ready, pending, unknown' });
});

t.test('the policy label and staleness show as the rules see them', async (t) => {
  const policy = { ...defaultPolicy(), sctpNodeLabel: { key: 'node-role.kubernetes.io/edge' } };
  const app = testProbeApp({ snapshot: scenarioSnapshot(), policy, debug: true });
  t.teardown(() => app.close());
  const body = (await app.inject({ method: 'GET', url: '/debug/nodes?state=ready' })).json();
  t.same(
    body.nodes.map((n: { name: string; reason: string }) => `${n.name}: ${n.reason}`),
    ['edge-0: node label node-role.kubernetes.io/edge', 'edge-1: node label node-role.kubernetes.io/edge'],
  );
  const stale = {
    app: testProbeApp({ snapshot: { ...scenarioSnapshot(), stale: true, ageSeconds: 900 }, debug: true }),
  };
  t.teardown(() => stale.app.close());
  t.match((await stale.app.inject({ method: 'GET', url: '/debug/nodes' })).json(), {
    stale: true,
    ageSeconds: 900,
    counts: { unknown: 12 },
  });
  const none = { app: testProbeApp({ snapshot: EMPTY_SNAPSHOT, debug: true }) };
  t.teardown(() => none.app.close());
  t.match((await none.app.inject({ method: 'GET', url: '/debug/nodes' })).json(), {
    source: 'none',
    nodeCount: 0,
    nodes: [],
  });
});

t.test('GET /debug/nodes is off unless asked for (serve --debug-endpoints)', async (t) => {
  const app = testProbeApp({ snapshot: scenarioSnapshot() });
  t.equal((await app.inject({ method: 'GET', url: '/debug/nodes' })).statusCode, 404);
  t.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'the probes stay');
});
