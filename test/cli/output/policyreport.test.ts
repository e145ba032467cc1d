import t from 'tap';
import { readManifests } from '../../../src/input/manifests.js';
import { policyReports, REPORT_APIS } from '../../../src/cli/output/policyreport.js';
import { toReported, type Report } from '../../../src/cli/output/report.js';
import { loadClusterState } from '../../../src/cluster/offline.js';
import { Engine } from '../../../src/engine/engine.js';
import { reviewObject } from '../../../src/engine/review-object.js';
import { defaultPolicy } from '../../../src/policy/presets.js';
import { ALL_RULES } from '../../../src/rules/index.js';
import { REPORT_CRDS, schemaErrors } from '../../helpers/k8s-schema.js';

// The examples reviewed as `audit` reviews live objects, against the example cluster state.
const engine = new Engine(ALL_RULES, defaultPolicy());
const snapshot = loadClusterState('examples/cluster-state');
const objects = (await readManifests(['examples'])).objects
  .map(({ object }) => object)
  .filter((o) => !['Node', 'MachineConfigPool', 'ClusterVersion'].includes(o.kind!));
const report: Report = {
  command: 'audit',
  objects: objects.map((o) => toReported(reviewObject(engine, snapshot, o), false)),
  problems: [],
  reportedAtOwner: 0,
  startedAt: new Date('2026-11-30T12:00:00Z'),
};
const wg = policyReports(report, 'policyreport');
const open = policyReports(report, 'openreports');

t.test('the fixtures are the upstream CRDs of both APIs', async (t) => {
  const served = REPORT_CRDS.map((c) => `${c.group}/${c.version} ${c.kind} ${c.scope}`).sort();
  const expected = Object.values(REPORT_APIS).flatMap((a) => [
    `${a.group}/${a.version} ${a.namespaced.kind} Namespaced`,
    `${a.group}/${a.version} ${a.cluster.kind} Cluster`,
  ]);
  t.same(served, expected.sort());
  for (const c of REPORT_CRDS)
    t.match(
      (c as unknown as { $comment: string }).$comment,
      /from github\.com\/\S+ \S+ at commit [0-9a-f]{40}$/,
      `${c.kind} names its source`,
    );
});

t.test('both formats validate against their CRD schemas, with the same findings', async (t) => {
  t.ok(wg.some((r) => r.kind === 'ClusterPolicyReport') && wg.some((r) => r.kind === 'PolicyReport'));
  t.ok(
    wg.some((r) => (r as any).summary.fail > 0),
    'something fails',
  );
  for (const r of [...wg, ...open]) t.same(await schemaErrors(r), [], `${r.kind} ${r.metadata?.namespace ?? ''}`);
  t.same(
    open.map((r) => r.kind),
    wg.map((r) => (r.kind === 'PolicyReport' ? 'Report' : 'ClusterReport')),
  );
  const strip = ({ apiVersion, kind, source, ...rest }: Record<string, unknown>) => rest;
  t.same(open.map(strip), wg.map(strip));
  t.ok(open.every((r) => (r as any).source === 'sctp-guard'));
  t.match((wg.find((r) => r.kind === 'PolicyReport') as any).results[0].timestamp, {
    seconds: Date.parse('2026-11-30T12:00:00Z') / 1000,
    nanos: 0,
  });
});

t.test('the report schemas refuse what the API server would refuse or prune (they can fail)', async (t) => {
  const telco = open.find((r) => r.kind === 'Report' && (r as any).results.length > 0)!;
  const cluster = open.find((r) => r.kind === 'ClusterReport')!;
  const edit = (o: object, f: (o: any) => void) => {
    const copy = structuredClone(o);
    f(copy);
    return schemaErrors(copy);
  };
  t.match(await edit(telco, (o) => (o.results[0].severity = 'urgent')), [
    /severity must be equal to one of the allowed values/,
  ]);
  t.match(
    await edit(telco, (o) => (o.results[0].status = 'fail')),
    [/must NOT have additional properties: status/],
    'a v1alpha1-era field',
  );
  t.match(await edit(telco, (o) => (o.summary.fail = '1')), [/summary\/fail must be integer/]);
  t.match(await edit(telco, (o) => delete o.results[0].policy), [/must have required property 'policy'/]);
  t.match(await edit(telco, (o) => delete o.metadata.namespace), [/namespaced: metadata.namespace is required/]);
  t.match(await edit(cluster, (o) => (o.metadata.namespace = 'x')), [/cluster-scoped/]);
  t.match(
    await edit(telco, (o) => ((o.apiVersion = 'wgpolicyk8s.io/v1alpha2'), (o.kind = 'PolicyReport'))),
    [/additional properties: source/],
    'wg-policy reports have no report-level source',
  );
});
