import t, { type Test } from 'tap';
import { LiveClusterSource, liveApi } from '../../src/cluster/live-source.js';
import { Engine } from '../../src/engine/engine.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { buildApp, buildMetricsApp } from '../../src/server/app.js';
import { ServerMetrics } from '../../src/server/metrics.js';
import { admissionReview, capturedLogger } from '../helpers/admission.js';
import { CORE_TYPES, FakeApiServer } from '../helpers/fake-apiserver.js';
import { node, scenario, sctpPod } from '../fixtures/cluster/builders.js';

/**
 * API-server faults seen from the admission side: decisions keep coming from the last good snapshot, its age
 * shows in /metrics and in the audit line, past the staleness limit decisions follow unknownNodeState, and the
 * informers come back by themselves. Time is scaled down (staleness 1 s, backoff capped at 200 ms, a 3 s
 * outage) so that the suite stays fast; the code paths are the ones a 30 s outage takes.
 */
async function until(cond: () => boolean, ms = 8000): Promise<boolean> {
  for (let waited = 0; waited < ms && !cond(); waited += 20) await new Promise((r) => setTimeout(r, 20));
  return cond();
}

async function setup(t: Test, options: { watchIdleTimeoutMs?: number } = {}) {
  const api = new FakeApiServer();
  await api.start();
  t.teardown(() => api.stop());
  const objects = scenario();
  api.upsertAll([...objects.nodes, ...objects.machineConfigs, ...objects.pools, ...objects.clusterVersions] as never);
  const { logger, lines } = capturedLogger('debug');
  const kc = liveApi({ kubeconfig: api.writeKubeconfig(), env: {} })!;
  const source = new LiveClusterSource(kc, {
    logger,
    backoff: { initialMs: 20, maxMs: 200 },
    rebuildDelayMs: 5,
    stalenessLimitSeconds: 1,
    ...options,
  });
  t.teardown(() => source.stop());
  const metrics = new ServerMetrics({ informers: () => source.status(), snapshot: () => source.snapshot() });
  const app = buildApp({
    engine: new Engine(ALL_RULES, { ...defaultPolicy(), stalenessLimitSeconds: 1 }),
    cluster: source,
    logger,
  });
  t.teardown(() => app.close());
  const metricsApp = buildMetricsApp({ metrics });
  t.teardown(() => metricsApp.close());
  await source.start();
  await source.waitForSync(5000);
  // A Pod pinned to the masters (blacklist kept): denied while the state is known.
  const masterPod = sctpPod(
    { nodeSelector: { 'node-role.kubernetes.io/master': '' }, tolerations: [{ operator: 'Exists' }] },
    'on-master',
  );
  const decide = async () => {
    const res = await app.inject({ method: 'POST', url: '/validate', payload: admissionReview(masterPod as never) });
    return res.json().response as { allowed: boolean; warnings?: string[] };
  };
  const gauge = async (name: string) => {
    const text = (await metricsApp.inject({ method: 'GET', url: '/metrics' })).payload;
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  };
  return { api, source, lines, decide, gauge };
}

t.test('an outage: last good state first, then unknownNodeState past the limit, then recovery', async (t) => {
  const { api, source, lines, decide, gauge } = await setup(t);
  t.equal((await decide()).allowed, false, 'known state: denied');
  t.equal(await gauge('sctp_guard_cluster_state_stale'), 0);

  api.outage = true;
  api.dropWatches();
  t.ok(
    await until(() => source.snapshot().ageSeconds === 0 && source.status().some((s) => s.lastError)),
    'the informers noticed',
  );
  t.equal((await decide()).allowed, false, 'right after the outage starts the last good state still decides');

  t.ok(await until(() => source.snapshot().stale), 'stale past stalenessLimitSeconds');
  t.ok((await gauge('sctp_guard_cluster_state_age_seconds'))! >= 1, 'the age is in /metrics');
  t.equal(await gauge('sctp_guard_cluster_state_stale'), 1);
  const stale = await decide();
  t.equal(stale.allowed, true, 'unknownNodeState: warn (the default) lets it through...');
  t.match(stale.warnings?.join(' '), /sctp-module-loaded/, '...with a warning, never silently');
  const audit = lines.filter((l) => l.audit === 'admission').at(-1)!;
  t.ok((audit.clusterStateAgeSeconds as number) >= 1, 'the audit line carries the state age');

  await new Promise((r) => setTimeout(r, 1500));
  api.outage = false;
  t.ok(await until(() => !source.snapshot().stale && api.watcherCount() === 5), 'the informers recover by themselves');
  t.equal(await gauge('sctp_guard_cluster_state_age_seconds'), 0);
  t.equal((await decide()).allowed, false, 'and decisions follow the cluster again');
  // A change made during the outage is picked up after it.
  api.upsert(
    CORE_TYPES.nodes,
    node('master-9', {
      roles: ['master'],
      current: 'rendered-worker-2',
      taints: [{ key: 'node-role.kubernetes.io/master', effect: 'NoSchedule' }],
    }),
  );
  t.ok(await until(() => source.snapshot().nodes.size === 13));
});

t.test('slow responses: the sync waits, /readyz says why, nothing is lost', async (t) => {
  const api = new FakeApiServer();
  await api.start();
  t.teardown(() => api.stop());
  const objects = scenario();
  api.upsertAll([...objects.nodes, ...objects.machineConfigs, ...objects.pools] as never);
  api.delayMs = 400;
  const { logger } = capturedLogger();
  const kc = liveApi({ kubeconfig: api.writeKubeconfig(), env: {} })!;
  const source = new LiveClusterSource(kc, { logger, backoff: { initialMs: 20, maxMs: 200 }, rebuildDelayMs: 5 });
  t.teardown(() => source.stop());
  await source.start();
  t.equal(source.readiness().ready, false, 'not ready while the lists are slow');
  await source.waitForSync(10_000);
  t.equal(source.readiness().ready, true);
  t.equal(source.snapshot().nodes.size, objects.nodes.length);
});

t.test('a watch that hangs without data is dropped after the idle timeout and resumed', async (t) => {
  const { api, source } = await setup(t, { watchIdleTimeoutMs: 400 });
  api.hangWatches = true;
  api.endWatches();
  // The informers reconnect into watches that never send anything.
  t.ok(await until(() => api.watcherCount() === 5));
  api.upsert(CORE_TYPES.nodes, node('during-hang', { roles: ['legacy'], current: 'rendered-legacy-1' }));
  await new Promise((r) => setTimeout(r, 200));
  t.equal(source.snapshot().nodes.classOf('during-hang') !== undefined, false, 'a hung watch delivers nothing');
  api.hangWatches = false;
  t.ok(
    await until(() => source.snapshot().nodes.classOf('during-hang') !== undefined),
    'after the idle timeout the watch is resumed and the event arrives',
  );
  t.equal(source.snapshot().stale, false);
});
