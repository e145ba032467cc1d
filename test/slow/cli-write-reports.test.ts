import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { readManifests } from '../../src/input/manifests.js';
import { CORE_TYPES, FakeApiServer, OPENSHIFT_TYPES, type ResourceType } from '../helpers/fake-apiserver.js';
import { schemaErrors } from '../helpers/k8s-schema.js';
import { runCli } from '../helpers/run-cli.js';

// `audit --write-reports` against the in-process API server, with the report CRDs of both APIs served.
const REPORTS = {
  policyreports: {
    group: 'wgpolicyk8s.io',
    version: 'v1alpha2',
    plural: 'policyreports',
    kind: 'PolicyReport',
    namespaced: true,
  },
  clusterpolicyreports: {
    group: 'wgpolicyk8s.io',
    version: 'v1alpha2',
    plural: 'clusterpolicyreports',
    kind: 'ClusterPolicyReport',
    namespaced: false,
  },
  reports: { group: 'openreports.io', version: 'v1alpha1', plural: 'reports', kind: 'Report', namespaced: true },
  clusterreports: {
    group: 'openreports.io',
    version: 'v1alpha1',
    plural: 'clusterreports',
    kind: 'ClusterReport',
    namespaced: false,
  },
} satisfies Record<string, ResourceType>;
const CLUSTER = [...Object.values(CORE_TYPES), ...Object.values(OPENSHIFT_TYPES)];
const MANAGED = { 'app.kubernetes.io/managed-by': 'sctp-guard' };
const SCTP_PORT = { port: 3868, protocol: 'SCTP' };
const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-write-reports-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function cluster(types: ResourceType[]): Promise<{ api: FakeApiServer; kubeconfig: string }> {
  const api = new FakeApiServer({ types });
  await api.start();
  t.teardown(() => api.stop());
  api.upsertAll((await readManifests(['examples/cluster-state'])).objects.map((m) => m.object) as never);
  api.upsert(CORE_TYPES.services, {
    metadata: { name: 'lb', namespace: 'telco' },
    spec: { type: 'LoadBalancer', ports: [SCTP_PORT] },
  });
  api.upsert(CORE_TYPES.services, {
    metadata: { name: 'np', namespace: 'edge' },
    spec: { type: 'NodePort', ports: [SCTP_PORT] },
  });
  return { api, kubeconfig: api.writeKubeconfig(dir) };
}

const names = (api: FakeApiServer, type: ResourceType) =>
  api
    .list(type)
    .map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`)
    .sort();

t.test(
  'policyreport: created or replaced by name, stale ones deleted, others left alone, valid against the CRD',
  async (t) => {
    const { api, kubeconfig } = await cluster([...CLUSTER, ...Object.values(REPORTS)]);
    // Before the run: last run's telco report (someone labelled it), a report for a namespace now empty, and a
    // report of another tool.
    api.upsert(REPORTS.policyreports, {
      metadata: {
        name: 'sctp-guard-audit',
        namespace: 'telco',
        labels: { ...MANAGED, team: 'ran' },
        annotations: { note: 'kept' },
      },
      summary: { pass: 9 },
      results: [],
    });
    api.upsert(REPORTS.policyreports, {
      metadata: { name: 'sctp-guard-audit', namespace: 'gone', labels: MANAGED },
      results: [],
    });
    api.upsert(REPORTS.policyreports, {
      metadata: { name: 'kyverno-abc', namespace: 'telco', labels: { 'app.kubernetes.io/managed-by': 'kyverno' } },
      results: [],
    });
    const telcoUid = api.get(REPORTS.policyreports, 'sctp-guard-audit', 'telco')!.metadata.uid;

    const r = await runCli(['audit', '--kubeconfig', kubeconfig, '-o', 'policyreport', '--write-reports']);
    t.equal(r.code, 0, 'written: exit 0 although something is denied (the findings are in the reports)', {
      stderr: r.stderr,
    });
    t.equal(r.stderr, '');
    t.match(r.stdout, /^clusterpolicyreport\.wgpolicyk8s\.io\/sctp-guard-audit created$/m);
    t.match(r.stdout, /^policyreport\.wgpolicyk8s\.io\/sctp-guard-audit -n edge created$/m);
    t.match(r.stdout, /^policyreport\.wgpolicyk8s\.io\/sctp-guard-audit -n telco configured$/m);
    t.match(r.stdout, /^policyreport\.wgpolicyk8s\.io\/sctp-guard-audit -n gone deleted/m);
    t.match(r.stdout, /objects audited.*1 denied/);
    t.same(names(api, REPORTS.policyreports), ['edge/sctp-guard-audit', 'telco/kyverno-abc', 'telco/sctp-guard-audit']);
    t.same(names(api, REPORTS.clusterpolicyreports), ['/sctp-guard-audit']);

    const telco = api.get(REPORTS.policyreports, 'sctp-guard-audit', 'telco')!;
    t.equal(telco.metadata.uid, telcoUid, 'replaced in place, not recreated');
    t.same(telco.metadata.labels, { ...MANAGED, team: 'ran' }, 'labels others added are kept');
    t.same(telco.metadata.annotations, { note: 'kept' });
    t.match(telco, {
      summary: { pass: 0, fail: 1 },
      results: [
        {
          policy: 'sctp-service-type',
          result: 'fail',
          resources: [{ kind: 'Service', name: 'lb', namespace: 'telco' }],
        },
      ],
    });
    t.match(api.get(REPORTS.policyreports, 'sctp-guard-audit', 'edge'), { summary: { pass: 1, fail: 0 }, results: [] });
    for (const o of [...api.list(REPORTS.policyreports), ...api.list(REPORTS.clusterpolicyreports)].filter(
      (o) => o.metadata.name === 'sctp-guard-audit',
    )) {
      const { uid, resourceVersion, ...metadata } = o.metadata;
      t.same(await schemaErrors({ ...o, metadata }), [], `${o.kind} ${o.metadata.namespace ?? ''} as stored`);
    }

    // Again: the same objects, replaced (idempotent), nothing created or deleted.
    const before = api
      .list(REPORTS.policyreports)
      .map((o) => o.metadata.uid)
      .sort();
    const again = await runCli(['audit', '--kubeconfig', kubeconfig, '-o', 'policyreport', '--write-reports']);
    t.equal(again.code, 0);
    t.notMatch(again.stdout, /created|deleted/);
    t.equal(again.stdout.match(/ configured$/gm)?.length, 3);
    t.same(
      api
        .list(REPORTS.policyreports)
        .map((o) => o.metadata.uid)
        .sort(),
      before,
    );
  },
);

t.test('openreports: Report and ClusterReport; --namespace touches only that namespace', async (t) => {
  const { api, kubeconfig } = await cluster([...CLUSTER, ...Object.values(REPORTS)]);
  api.upsert(REPORTS.reports, { metadata: { name: 'sctp-guard-audit', namespace: 'gone', labels: MANAGED } });
  const one = await runCli([
    'audit',
    '--kubeconfig',
    kubeconfig,
    '-o',
    'openreports',
    '--write-reports',
    '--namespace',
    'telco',
  ]);
  t.equal(one.code, 0, one.stderr);
  t.same(
    names(api, REPORTS.reports),
    ['gone/sctp-guard-audit', 'telco/sctp-guard-audit'],
    'another namespace is out of scope',
  );
  t.same(names(api, REPORTS.clusterreports), [], 'cluster-scoped objects are not audited with --namespace');
  t.same(names(api, REPORTS.policyreports), []);

  const all = await runCli(['audit', '--kubeconfig', kubeconfig, '-o', 'openreports', '--write-reports']);
  t.equal(all.code, 0, all.stderr);
  t.same(names(api, REPORTS.reports), ['edge/sctp-guard-audit', 'telco/sctp-guard-audit']);
  t.same(names(api, REPORTS.clusterreports), ['/sctp-guard-audit']);
  for (const o of [...api.list(REPORTS.reports), ...api.list(REPORTS.clusterreports)]) {
    const { uid, resourceVersion, ...metadata } = o.metadata;
    t.same(await schemaErrors({ ...o, metadata }), [], `${o.kind} ${o.metadata.namespace ?? ''} as stored`);
    t.equal(o.source, 'sctp-guard');
  }
});

t.test('errors: exit 2 with the cause, and no partial reports', async (t) => {
  const [bare, rbac, partial] = await Promise.all([
    cluster(CLUSTER),
    cluster([...CLUSTER, ...Object.values(REPORTS)]),
    cluster([...CLUSTER, ...Object.values(REPORTS)]),
  ]);
  rbac.api.forbid(REPORTS.policyreports);
  partial.api.forbid(CORE_TYPES.services);
  // Started together: each is a process start.
  const [text, noCrd, forbidden, incomplete] = await Promise.all([
    runCli(['audit', '--kubeconfig', '/nonexistent', '--write-reports']),
    runCli(['audit', '--kubeconfig', bare.kubeconfig, '-o', 'openreports', '--write-reports']),
    runCli(['audit', '--kubeconfig', rbac.kubeconfig, '-o', 'policyreport', '--write-reports']),
    runCli(['audit', '--kubeconfig', partial.kubeconfig, '-o', 'policyreport', '--write-reports']),
  ]);
  t.equal(text!.code, 2);
  t.match(text!.stderr, /--write-reports .*-o policyreport or -o openreports/);
  t.equal(noCrd!.code, 2);
  t.match(noCrd!.stderr, /does not serve clusterreports\.openreports\.io\/v1alpha1: install the OpenReports CRDs/);
  t.equal(forbidden!.code, 2);
  t.match(forbidden!.stderr, /forbidden by RBAC \(403\).*deploy\/components\/reports\/rbac\.yaml/);
  t.equal(incomplete!.code, 2);
  t.match(incomplete!.stderr, /services.*403/);
  t.match(incomplete!.stderr, /reports not written: the audit is incomplete/);
  t.same(names(partial.api, REPORTS.policyreports), [], 'nothing written from a partial audit');
});
