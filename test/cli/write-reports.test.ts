import t, { type Test } from 'tap';
import { writeReports } from '../../src/cli/write-reports.js';
import { liveApi } from '../../src/cluster/live-source.js';
import { FakeApiServer, type ResourceType } from '../helpers/fake-apiserver.js';

// `audit --write-reports` replaces only the reports it created, by server-side apply.
const POLICYREPORTS: ResourceType = {
  group: 'wgpolicyk8s.io',
  version: 'v1alpha2',
  plural: 'policyreports',
  kind: 'PolicyReport',
  namespaced: true,
};
const CLUSTERPOLICYREPORTS: ResourceType = {
  group: 'wgpolicyk8s.io',
  version: 'v1alpha2',
  plural: 'clusterpolicyreports',
  kind: 'ClusterPolicyReport',
  namespaced: false,
};
const MANAGED = { 'app.kubernetes.io/managed-by': 'sctp-guard' };
const report = (namespace: string) => ({
  apiVersion: 'wgpolicyk8s.io/v1alpha2',
  kind: 'PolicyReport',
  metadata: { name: 'sctp-guard-audit', namespace, labels: MANAGED },
  summary: { pass: 1 },
  results: [],
});

async function setup(t: Test) {
  const fake = new FakeApiServer({ types: [POLICYREPORTS, CLUSTERPOLICYREPORTS] });
  await fake.start();
  t.teardown(() => fake.stop());
  return { fake, api: liveApi({ kubeconfig: fake.writeKubeconfig(t.testdir()), env: {} })! };
}

t.test('a same-named report another tool manages is not replaced: the run stops and names it', async (t) => {
  const { fake, api } = await setup(t);
  fake.upsert(POLICYREPORTS, {
    metadata: { name: 'sctp-guard-audit', namespace: 'telco', labels: { 'app.kubernetes.io/managed-by': 'kyverno' } },
    results: [{ policy: 'theirs' }],
  });
  fake.upsert(POLICYREPORTS, { metadata: { name: 'sctp-guard-audit', namespace: 'edge' }, results: [] });
  await t.rejects(writeReports(api, [report('telco')], 'policyreport'), {
    message:
      'policyreport.wgpolicyk8s.io/sctp-guard-audit -n telco: not replaced: a report of that name is managed by "kyverno" (app.kubernetes.io/managed-by); sctp-guard replaces only the reports it created: rename or delete that one',
  });
  await t.rejects(
    writeReports(api, [report('edge')], 'policyreport'),
    /-n edge: not replaced: a report of that name has no app\.kubernetes\.io\/managed-by label/,
  );
  t.match(fake.get(POLICYREPORTS, 'sctp-guard-audit', 'telco'), { results: [{ policy: 'theirs' }] }, 'untouched');
  t.equal(
    fake.countRequests((r) => r.method !== 'GET'),
    0,
    'nothing written',
  );
});

t.test('its own reports: applied with the resourceVersion read as a precondition, one field manager', async (t) => {
  const { fake, api } = await setup(t);
  fake.upsert(POLICYREPORTS, {
    metadata: { name: 'sctp-guard-audit', namespace: 'telco', labels: { ...MANAGED, team: 'ran' } },
    results: [],
  });
  const { lines } = await writeReports(api, [report('telco'), report('edge')], 'policyreport');
  t.same(lines, [
    'policyreport.wgpolicyk8s.io/sctp-guard-audit -n telco configured',
    'policyreport.wgpolicyk8s.io/sctp-guard-audit -n edge created',
  ]);
  t.same(
    fake.get(POLICYREPORTS, 'sctp-guard-audit', 'telco')!.metadata.labels,
    { ...MANAGED, team: 'ran' },
    'a label someone else added is kept',
  );
  const writes = fake.requests.filter((r) => r.method !== 'GET');
  t.same(
    writes.map((r) => `${r.method} ${r.contentType} ${r.query.get('fieldManager')}`),
    Array(2).fill('PATCH application/apply-patch+yaml sctp-guard'),
  );
});
