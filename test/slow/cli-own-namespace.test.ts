import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { writeDevCerts } from '../../src/cli/certs.js';
import { admissionReview, httpsPost } from '../helpers/admission.js';
import { CORE_TYPES, FakeApiServer } from '../helpers/fake-apiserver.js';
import { CLI, listeningOf, loopbackServe, runCli } from '../helpers/run-cli.js';

// A policy that lists its own exclusions and forgets the webhook's namespace: it is excluded anyway (mergePolicy,
// test/policy/merge.test.ts); here each command is shown to get it.
const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-own-ns-'));
const policyFile = join(dir, 'policy.yaml');
writeFileSync(
  policyFile,
  'apiVersion: sctp-guard.io/v1alpha1\nkind: SctpGuardPolicy\nexcludedNamespaces: [kube-system]\n',
);
const lb = (namespace: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'lb', namespace },
  spec: { type: 'LoadBalancer', ports: [{ port: 3868, protocol: 'SCTP' }] },
});

t.test('check: the own namespace ($POD_NAMESPACE, else sctp-guard) is skipped whatever the policy lists', async (t) => {
  const stdin = [lb('sctp-guard'), lb('guard'), lb('telco')].map((o) => stringify(o)).join('---\n');
  const byDefault = await runCli(['check', '-f', '-', '--config', policyFile, '-o', 'json'], { stdin });
  const denied = (r: { stdout: string }) =>
    (JSON.parse(r.stdout) as { objects: Array<{ namespace?: string; result: string }> }).objects
      .filter((o) => o.result === 'deny')
      .map((o) => o.namespace);
  t.equal(byDefault.code, 1, byDefault.stderr);
  t.same(denied(byDefault), ['guard', 'telco'], 'sctp-guard skipped');
  const moved = await runCli(['check', '-f', '-', '--config', policyFile, '-o', 'json'], {
    stdin,
    env: { POD_NAMESPACE: 'guard' },
  });
  t.same(denied(moved), ['sctp-guard', 'telco'], 'guard skipped when the webhook runs there');
});

t.test('register --dry-run: the namespaceSelector always leaves out the own namespace', async (t) => {
  for (const [args, env, ns] of [
    [['--namespace', 'guard'], {}, 'guard'],
    [[], { POD_NAMESPACE: 'guard-2' }, 'guard-2'],
  ] as const) {
    const res = await runCli(['register', '--dry-run', '--config', policyFile, ...args], { env });
    t.equal(res.code, 0, res.stderr);
    for (const doc of parseAllDocuments(res.stdout).map((d) => d.toJS() as any)) {
      t.same(
        doc.webhooks[0].namespaceSelector.matchExpressions[0].values,
        ['kube-system', ns].sort(),
        `${doc.kind}: ${ns}`,
      );
      t.equal(doc.webhooks[0].clientConfig.service.namespace, ns);
    }
  }
});

t.test('export vap: every binding leaves out the own namespace, as the webhook does', async (t) => {
  for (const [env, ns] of [
    [{}, 'sctp-guard'],
    [{ POD_NAMESPACE: 'guard-2' }, 'guard-2'],
  ] as const) {
    const res = await runCli(['export', 'vap', '--config', policyFile], { env });
    t.equal(res.code, 0, res.stderr);
    const bindings = parseAllDocuments(res.stdout)
      .map((d) => d.toJS() as any)
      .filter((d) => d.kind === 'ValidatingAdmissionPolicyBinding');
    t.ok(bindings.length > 0);
    for (const b of bindings)
      t.same(
        b.spec.matchResources.namespaceSelector.matchExpressions[0].values,
        ['kube-system', ns].sort(),
        `${b.metadata.name}: ${ns}`,
      );
  }
});

t.test('audit: objects in the own namespace are not reported', async (t) => {
  const api = new FakeApiServer({ types: Object.values(CORE_TYPES) });
  await api.start();
  t.teardown(() => api.stop());
  for (const ns of ['sctp-guard', 'telco']) api.upsert(CORE_TYPES.services, lb(ns) as never);
  const res = await runCli([
    'audit',
    '--kubeconfig',
    api.writeKubeconfig(mkdtempSync(join(dir, 'kc-'))),
    '--config',
    policyFile,
    '-o',
    'json',
  ]);
  t.equal(res.code, 1, res.stderr);
  const reported = (
    JSON.parse(res.stdout) as { objects: Array<{ namespace?: string; result: string }> }
  ).objects.filter((o) => o.result === 'deny');
  t.same(
    reported.map((o) => o.namespace),
    ['telco'],
  );
});

t.test('serve: a review in the own namespace is allowed without a rule running', async (t: Test) => {
  const certs = writeDevCerts({ dir: join(dir, 'certs') });
  const child = spawn(
    process.execPath,
    [
      CLI,
      ...loopbackServe(certs),
      '--health-probe-bind-address',
      '0',
      '--metrics-bind-address',
      '0',
      '--config',
      policyFile,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: '', POD_NAMESPACE: 'guard' },
    },
  );
  t.teardown(() => void child.kill('SIGKILL'));
  const { port } = await listeningOf(child);
  const decide = async (namespace: string) => {
    const res = await httpsPost(
      port,
      (await import('node:fs')).readFileSync(certs.caCert),
      '/validate',
      JSON.stringify(admissionReview(lb(namespace))),
      { 'content-type': 'application/json' },
    );
    return res.json().response.allowed as boolean;
  };
  t.equal(await decide('guard'), true, 'its own namespace ($POD_NAMESPACE)');
  t.equal(await decide('telco'), false, 'any other namespace is reviewed');
});
