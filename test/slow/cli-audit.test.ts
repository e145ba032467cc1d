import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { auditedResources } from '../../src/cli/audit.js';
import { Progress } from '../../src/cli/output/progress.js';
import { readManifests } from '../../src/input/manifests.js';
import { loadClusterState } from '../../src/cluster/offline.js';
import { Engine } from '../../src/engine/engine.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { ALL_RULES } from '../../src/rules/index.js';
import type { Report } from '../../src/cli/output/report.js';
import { exampleObject } from '../helpers/admission.js';
import { CORE_TYPES, FakeApiServer, GATEWAY_TYPES, OPENSHIFT_TYPES } from '../helpers/fake-apiserver.js';
import { schemaErrors } from '../helpers/k8s-schema.js';
import { runCli } from '../helpers/run-cli.js';

// `audit` against the in-process API server: the example OpenShift cluster state, plus workloads, Services, a
// Gateway and a MachineConfig to find. Only the v1alpha1 Gateway group is served: the other is a missing CRD.
const api = new FakeApiServer({
  types: [...Object.values(CORE_TYPES), ...Object.values(OPENSHIFT_TYPES), GATEWAY_TYPES.gatewaysV1alpha1],
});
const PAGE = 4;
const SCTP_PORT = { port: 3868, protocol: 'SCTP' };
const sctpPod = {
  containers: [{ name: 'app', image: 'example.com/sctp:1', ports: [{ containerPort: 3868, protocol: 'SCTP' }] }],
};
let kubeconfig = '';
let dir = '';

t.before(async () => {
  await api.start();
  // Unique paths: t.testdir() is shared by concurrent runs of this file.
  dir = mkdtempSync(join(tmpdir(), 'sctp-guard-audit-'));
  kubeconfig = api.writeKubeconfig(dir);
  api.upsertAll((await readManifests(['examples/cluster-state'])).objects.map((m) => m.object) as never);
  api.upsert(CORE_TYPES.services, {
    metadata: { name: 'lb', namespace: 'telco' },
    spec: { type: 'LoadBalancer', ports: [SCTP_PORT] },
  });
  api.upsert(CORE_TYPES.services, {
    metadata: { name: 'npl', namespace: 'telco', annotations: { 'nodeportlocal.antrea.io/enabled': 'true' } },
    spec: { selector: { app: 'x' }, ports: [SCTP_PORT] },
  });
  for (let i = 0; i < 7; i++)
    api.upsert(CORE_TYPES.services, {
      metadata: { name: `cip-${i}`, namespace: 'telco' },
      spec: { ports: [SCTP_PORT] },
    });
  api.upsert(CORE_TYPES.services, {
    metadata: { name: 'lb', namespace: 'openshift-monitoring' },
    spec: { type: 'LoadBalancer', ports: [SCTP_PORT] },
  });

  const owner = (kind: string, name: string) => ({
    ownerReferences: [{ apiVersion: 'apps/v1', kind, name, uid: `uid-${name}`, controller: true }],
  });
  api.upsert(CORE_TYPES.deployments, {
    metadata: { name: 'diameter', namespace: 'telco' },
    spec: { template: { spec: sctpPod } },
  });
  api.upsert(CORE_TYPES.replicasets, {
    metadata: { name: 'diameter-5d8', namespace: 'telco', ...owner('Deployment', 'diameter') },
    spec: { template: { spec: sctpPod } },
  });
  for (const suffix of ['a1', 'b2']) {
    api.upsert(CORE_TYPES.pods, {
      metadata: { name: `diameter-5d8-${suffix}`, namespace: 'telco', ...owner('ReplicaSet', 'diameter-5d8') },
      spec: sctpPod,
    });
  }
  // Its controller is not something the audit lists: reported on its own.
  api.upsert(CORE_TYPES.pods, {
    metadata: {
      name: 'static-sctp-master-0',
      namespace: 'telco',
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'master-0', uid: 'n', controller: true }],
    },
    spec: sctpPod,
  });
  api.upsert(CORE_TYPES.pods, { metadata: { name: 'bare', namespace: 'telco' }, spec: sctpPod });

  api.upsert(GATEWAY_TYPES.gatewaysV1alpha1, exampleObject('ako-sctp-gateway.yaml', 'Gateway') as never);
  api.upsert(OPENSHIFT_TYPES.machineconfigs, {
    ...exampleObject('openshift-machineconfig-load-sctp-2.2.0.yaml', 'MachineConfig'),
    metadata: { name: '99-blog-sctp' },
  } as never);
});
t.teardown(async () => {
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

const lines = (text: string) => text.split('\n').filter(Boolean);
const auditRequests = (from: number, path: string) =>
  api.requests.slice(from).filter((r) => !r.watch && r.path === path);

t.test('text: what would be denied today, paginated lists, controllers reported once', async (t) => {
  const from = api.requests.length;
  const r = await runCli(['audit', '--kubeconfig', kubeconfig, '--page-size', String(PAGE)]);
  t.equal(r.code, 1, 'something would be denied');
  t.equal(r.stderr, '', 'no progress bar when stderr is not a terminal; the missing Gateway CRD is skipped quietly');
  t.same(
    lines(r.stdout)
      .filter((l) => l.includes(' DENY: '))
      .map((l) => l.split(' DENY: ')[0]),
    ['Service telco/lb: sctp-service-type', 'Gateway svcapi/my-gateway: sctp-gateway-listener'],
  );
  t.match(r.stdout, /^Service telco\/npl: nodeportlocal-sctp WARN: /m);
  t.match(
    r.stdout,
    /^MachineConfig 99-blog-sctp: ignition-spec-version MUTATE: /m,
    'a 2.2.0 MachineConfig would be rewritten',
  );
  t.notMatch(r.stdout, /diameter-5d8/, 'the ReplicaSet and its Pods are reported at the Deployment');
  t.notMatch(r.stdout, /openshift-monitoring/, 'excluded namespaces are not reported');
  t.match(
    lines(r.stdout).at(-1),
    /^\d+ objects audited \(3 more reported at their controller\): 2 denied, \d+ warned, \d+ passed$/,
  );

  const services = auditRequests(from, '/api/v1/services');
  t.equal(services.length, 3, '10 Services in pages of 4: 3 list requests');
  t.same(
    services.map((q) => q.query.get('limit')),
    ['4', '4', '4'],
  );
  t.same(
    services.map((q) => q.query.has('continue')),
    [false, true, true],
  );
  t.equal(
    auditRequests(from, '/apis/gateway.networking.k8s.io/v1/gateways').length,
    1,
    'the missing CRD was asked once per version',
  );
  t.equal(auditRequests(from, '/api/v1/nodes').length, 1, 'the live snapshot listed the nodes');
});

t.test('json: every object evaluated, owned objects counted, no file fields', async (t) => {
  const r = await runCli(['audit', '--kubeconfig', kubeconfig, '-o', 'json']);
  t.equal(r.code, 1);
  const doc = JSON.parse(r.stdout);
  t.equal(doc.kind, 'AuditReport');
  t.match(doc.summary, { denied: 2, reportedAtOwner: 3, errors: 0 });
  const names = doc.objects.map((o: { kind: string; name: string }) => `${o.kind}/${o.name}`);
  t.ok(
    names.includes('Deployment/diameter') && names.includes('Pod/bare') && names.includes('Pod/static-sctp-master-0'),
  );
  t.notOk(names.some((n: string) => n.includes('diameter-5d8')));
  const lb = doc.objects.find((o: { namespace: string; name: string }) => o.namespace === 'telco' && o.name === 'lb');
  t.match(lb, {
    apiVersion: 'v1',
    kind: 'Service',
    result: 'deny',
    findings: [{ rule: 'sctp-service-type', decision: 'deny' }],
  });
  t.notOk('file' in lb);
  t.match(
    doc.objects.find((o: { namespace: string }) => o.namespace === 'openshift-monitoring'),
    { result: 'pass', skipped: /excluded/ },
  );
});

// Kept for the OpenReports comparison below (each audit is a process start).
let wgReports: any[] = [];

t.test('policyreport: one PolicyReport per namespace, a ClusterPolicyReport for MachineConfigs', async (t) => {
  const r = await runCli(['audit', '--kubeconfig', kubeconfig, '-o', 'policyreport']);
  t.equal(r.code, 1);
  const reports = parseAllDocuments(r.stdout).map((d) => d.toJS());
  wgReports = reports;
  t.same(
    reports.map((p) => [p.apiVersion, p.kind, p.metadata.namespace ?? '']),
    [
      ['wgpolicyk8s.io/v1alpha2', 'ClusterPolicyReport', ''],
      ['wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'svcapi'],
      ['wgpolicyk8s.io/v1alpha2', 'PolicyReport', 'telco'],
    ],
    'no report for the excluded openshift-monitoring namespace',
  );
  t.ok(reports.every((p) => p.metadata.name === 'sctp-guard-audit'));
  const telco = reports[2];
  const lb = telco.results.find((x: { resources: Array<{ name: string }> }) => x.resources[0]!.name === 'lb');
  t.match(lb, {
    source: 'sctp-guard',
    policy: 'sctp-service-type',
    rule: 'sctp-service-type',
    result: 'fail',
    severity: 'high',
    scored: true,
    message: /^\[sctp-service-type\] Service telco\/lb: /,
  });
  t.match(lb.resources[0], { apiVersion: 'v1', kind: 'Service', namespace: 'telco', uid: /^uid-telco\/lb-/ });
  t.match(lb.timestamp, { seconds: Number, nanos: 0 });
  t.match(
    telco.results.find((x: { resources: Array<{ name: string }> }) => x.resources[0]!.name === 'npl'),
    { policy: 'nodeportlocal-sctp', result: 'warn', scored: false },
  );
  t.equal(telco.summary.fail, 1);
  t.equal(telco.summary.fail + telco.summary.warn + telco.summary.error, telco.results.length);
  // The blog's 2.2.0 MachineConfig is accepted by the MCO as it is (its missing trailing newline breaks nothing).
  t.notOk(
    reports[0].results.some(
      (x: { resources: Array<{ kind: string; name: string }> }) => x.resources[0]!.name === '99-blog-sctp',
    ),
  );
  t.ok(
    reports[0].results.every(
      (x: { resources: Array<{ kind: string }> }) =>
        x.resources[0]!.kind === 'MachineConfig' && !('namespace' in x.resources[0]!),
    ),
  );
  t.match(reports[1].results, [
    {
      policy: 'sctp-gateway-listener',
      result: 'fail',
      resources: [{ apiVersion: 'networking.x-k8s.io/v1alpha1', kind: 'Gateway', name: 'my-gateway' }],
    },
  ]);
});

t.test('openreports: the same reports in the openreports.io/v1alpha1 API', async (t) => {
  const open = await runCli(['audit', '--kubeconfig', kubeconfig, '-o', 'openreports']);
  t.equal(open.code, 1);
  const openReports = parseAllDocuments(open.stdout).map((d) => d.toJS());
  t.same(
    openReports.map((p) => [p.apiVersion, p.kind, p.metadata.namespace ?? '']),
    [
      ['openreports.io/v1alpha1', 'ClusterReport', ''],
      ['openreports.io/v1alpha1', 'Report', 'svcapi'],
      ['openreports.io/v1alpha1', 'Report', 'telco'],
    ],
  );
  for (const report of [...wgReports, ...openReports])
    t.same(await schemaErrors(report), [], `${report.kind} ${report.metadata.namespace ?? ''}`);
  const strip = ({ apiVersion, kind, source, results, ...rest }: Record<string, any>) => ({
    ...rest,
    results: results.map(({ timestamp, ...r }: any) => r),
  });
  t.same(openReports.map(strip), wgReports.map(strip), 'only the API, the kinds and the report-level source differ');
});

t.test('--namespace lists one namespace and leaves cluster-scoped MachineConfigs out', async (t) => {
  const from = api.requests.length;
  const r = await runCli(['audit', '--kubeconfig', kubeconfig, '--namespace', 'svcapi', '-o', 'json']);
  t.equal(r.code, 1);
  const doc = JSON.parse(r.stdout);
  t.same(
    doc.objects.map((o: { kind: string; name: string }) => `${o.kind}/${o.name}`),
    ['Gateway/my-gateway'],
  );
  t.ok(auditRequests(from, '/api/v1/namespaces/svcapi/services').length === 1);
  t.equal(auditRequests(from, '/api/v1/services').length, 0);
});

t.test(
  'check --kubeconfig takes the same live snapshot: the Ignition version the cluster renders is the mutation target',
  async (t) => {
    const from = api.requests.length;
    const r = await runCli([
      'check',
      '-f',
      'examples/openshift-machineconfig-load-sctp-2.2.0.yaml',
      '--kubeconfig',
      kubeconfig,
      '-o',
      'yaml',
      '--mutate',
    ]);
    t.equal(r.code, 0);
    const rendered = loadClusterState('examples/cluster-state').renderedIgnitionVersion;
    t.equal(parseAllDocuments(r.stdout).map((d) => d.toJS())[0].spec.config.ignition.version, rendered);
    t.equal(
      auditRequests(from, '/apis/machineconfiguration.openshift.io/v1/machineconfigs').length,
      1,
      'listed through the API',
    );
  },
);

t.test('an unreachable API server fails fast with exit 2', async (t) => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const server = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const file = join(dir, 'unreachable.kubeconfig');
  writeFileSync(file, readFileSync(kubeconfig, 'utf8').replace(api.url, server));
  const started = Date.now();
  const r = await runCli(['audit', '--kubeconfig', file]);
  t.equal(r.code, 2);
  t.equal(
    r.stderr,
    `sctp-guard: cannot reach the API server at ${server}: connection refused (ECONNREFUSED): nothing listens at that address and port\n`,
  );
  t.ok(Date.now() - started < 20_000, 'no waiting out informer retries');
});

t.test('an API server that answers 503 fails fast with exit 2', async (t) => {
  api.outage = true;
  t.teardown(() => {
    api.outage = false;
  });
  const r = await runCli(['audit', '--kubeconfig', kubeconfig]);
  t.equal(r.code, 2);
  t.equal(
    r.stderr,
    `sctp-guard: the API server at ${api.url} is not serving (503): the server is currently unable to handle the request\n`,
  );
  t.equal(r.stdout, '');
});

t.test('the audited resources come from the enabled rules, controllers first', async (t) => {
  const all = auditedResources(new Engine(ALL_RULES, defaultPolicy()));
  const kinds = all.map((r) => `${r.group || 'core'}/${r.plural}`);
  for (const expected of [
    'core/services',
    'core/pods',
    'apps/deployments',
    'batch/cronjobs',
    'networking.k8s.io/networkpolicies',
    'networking.x-k8s.io/gateways',
    'gateway.networking.k8s.io/gateways',
    'machineconfiguration.openshift.io/machineconfigs',
  ]) {
    t.ok(kinds.includes(expected), expected);
  }
  const at = (kind: string) => all.findIndex((r) => r.kind === kind);
  t.ok(
    at('CronJob') < at('Job') &&
      at('Job') < at('Pod') &&
      at('Deployment') < at('ReplicaSet') &&
      at('ReplicaSet') < at('Pod'),
  );
  t.match(
    all.find((r) => r.kind === 'MachineConfig'),
    { namespaced: false, maxPageSize: 20 },
  );
  const noGateways = { ...defaultPolicy(), rules: { 'sctp-gateway-listener': { enforcement: 'off' as const } } };
  t.notOk(
    auditedResources(new Engine(ALL_RULES, noGateways)).some((r) => r.kind === 'Gateway'),
    'a rule turned off is not listed for',
  );
});

t.test('progress: one rewritten line on a terminal, nothing otherwise', async (t) => {
  const report: Report = { command: 'audit', objects: [], problems: [], reportedAtOwner: 2, startedAt: new Date() };
  const written: string[] = [];
  const tty = new Progress({ isTTY: true, write: (s: string | Uint8Array) => written.push(String(s)) > 0 });
  tty.update('pods', report);
  tty.note('gateways.gateway.networking.k8s.io not served by this cluster: skipped');
  tty.done();
  t.same(written, [
    '\r\u001b[K[audit] pods: 2 objects, 0 denied, 0 warned',
    '\r\u001b[K[audit] gateways.gateway.networking.k8s.io not served by this cluster: skipped',
    '\r\u001b[K',
  ]);
  const piped: string[] = [];
  const pipe = new Progress({ isTTY: false, write: (s: string | Uint8Array) => piped.push(String(s)) > 0 });
  pipe.update('pods', report);
  pipe.done();
  t.same(piped, []);
});
