import t, { type Test } from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { writeDevCerts } from '../../src/cli/certs.js';
import { Command } from 'commander';
import { register, registerRegisterCommands, unregister, type RegisterOptions } from '../../src/cli/register.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { CORE_TYPES, FakeApiServer } from '../helpers/fake-apiserver.js';
import { runCli } from '../helpers/run-cli.js';

const VWC = CORE_TYPES.validatingwebhookconfigurations;
const MWC = CORE_TYPES.mutatingwebhookconfigurations;

// One CA for every test: key generation is the slow part.
const certs = writeDevCerts({ dir: mkdtempSync(join(tmpdir(), 'sctp-guard-register-ca-')) });

async function setup(t: Test) {
  const fake = new FakeApiServer();
  await fake.start();
  t.teardown(() => fake.stop());
  const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-register-'));
  const kubeconfig = fake.writeKubeconfig(dir);
  const lines: string[] = [];
  const options = (more: Partial<RegisterOptions> = {}): RegisterOptions => ({
    kubeconfig,
    caBundle: certs.caCert,
    serviceName: 'sctp-guard',
    namespace: 'sctp-guard',
    servicePort: 443,
    legacy: false,
    timeoutSeconds: 5,
    dryRun: false,
    ...more,
  });
  return { fake, dir, certs, kubeconfig, lines, print: (l: string) => void lines.push(l), options };
}

t.test('service mode: both configurations created with the CA bundle, then applied again in place', async (t) => {
  const { fake, certs, lines, print, options } = await setup(t);
  await register(options(), print);
  t.same(lines, [
    'validatingwebhookconfiguration.admissionregistration.k8s.io/sctp-guard created',
    'mutatingwebhookconfiguration.admissionregistration.k8s.io/sctp-guard created',
  ]);
  const vwc = fake.get(VWC, 'sctp-guard') as any;
  const mwc = fake.get(MWC, 'sctp-guard') as any;
  const { readFileSync } = await import('node:fs');
  const ca = Buffer.from(readFileSync(certs.caCert)).toString('base64');
  t.same(vwc.webhooks[0].clientConfig, {
    service: { name: 'sctp-guard', namespace: 'sctp-guard', port: 443, path: '/validate' },
    caBundle: ca,
  });
  t.same(mwc.webhooks[0].clientConfig.service.path, '/mutate');
  t.ok(vwc.webhooks[0].matchConditions.length > 0);
  const firstVersion = vwc.metadata.resourceVersion;

  lines.length = 0;
  await register(options({ legacy: true, timeoutSeconds: 9 }), print);
  t.same(
    lines,
    [
      'validatingwebhookconfiguration.admissionregistration.k8s.io/sctp-guard configured',
      'mutatingwebhookconfiguration.admissionregistration.k8s.io/sctp-guard configured',
    ],
    'idempotent: a second run replaces',
  );
  const replaced = fake.get(VWC, 'sctp-guard') as any;
  t.equal(fake.list(VWC).length, 1, 'still one object');
  t.equal(replaced.metadata.uid, vwc.metadata.uid, 'the same object, replaced');
  t.not(replaced.metadata.resourceVersion, firstVersion);
  t.equal(replaced.webhooks[0].timeoutSeconds, 9);
  t.notOk('matchConditions' in replaced.webhooks[0], 'legacy: no matchConditions');
  const writes = fake.requests.filter((r) => !['GET'].includes(r.method));
  t.same(
    writes.map((r) => `${r.method} ${r.contentType} ${r.query.get('fieldManager')}`),
    Array(4).fill('PATCH application/apply-patch+yaml sctp-guard'),
    'server-side apply, one field manager, nothing else',
  );
});

t.test('URL mode points both hooks at the external webhook', async (t) => {
  const { fake, print, options } = await setup(t);
  await register(options({ url: 'https://192.0.2.10:8443' }), print);
  t.same((fake.get(VWC, 'sctp-guard') as any).webhooks[0].clientConfig.url, 'https://192.0.2.10:8443/validate');
  t.same((fake.get(MWC, 'sctp-guard') as any).webhooks[0].clientConfig.url, 'https://192.0.2.10:8443/mutate');
  t.notOk('service' in (fake.get(VWC, 'sctp-guard') as any).webhooks[0].clientConfig);
});

t.test('concurrent registers: both apply, no read-modify-write race to lose', async (t) => {
  const { fake, print, options } = await setup(t);
  await register(options(), print);
  await Promise.all([register(options({ timeoutSeconds: 7 }), print), register(options({ timeoutSeconds: 8 }), print)]);
  t.ok([7, 8].includes((fake.get(VWC, 'sctp-guard') as any).webhooks[0].timeoutSeconds));
  t.equal(
    fake.countRequests((r) => r.method === 'PUT' || r.method === 'POST'),
    0,
    'no replace, no create: apply only',
  );
});

t.test('a phase with no rule any more: its old configuration is deleted', async (t) => {
  const { fake, lines, print, options } = await setup(t);
  await register(options(), print);
  lines.length = 0;
  await register(
    options(),
    print,
    ALL_RULES.filter((r) => r.phase === 'validate'),
  );
  t.same(lines, [
    'validatingwebhookconfiguration.admissionregistration.k8s.io/sctp-guard configured',
    'mutatingwebhookconfiguration.admissionregistration.k8s.io/sctp-guard deleted (no rule runs in this phase)',
  ]);
  t.equal(fake.get(MWC, 'sctp-guard'), undefined);
});

t.test('--dry-run prints the objects and touches nothing, with or without a CA', async (t) => {
  const { fake, lines, print, options } = await setup(t);
  await register(options({ dryRun: true, caBundle: undefined }), print);
  t.equal(fake.requests.length, 0, 'no API request');
  const docs = parseAllDocuments(lines.join('\n')).map((d) => d.toJS());
  t.same(
    docs.map((d) => d.kind),
    ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'],
  );
  t.notOk('caBundle' in docs[0].webhooks[0].clientConfig);
});

t.test('unregister deletes both, and says so; again it says not found', async (t) => {
  const { fake, lines, print, options, kubeconfig } = await setup(t);
  await register(options(), print);
  lines.length = 0;
  await unregister({ kubeconfig, dryRun: false }, print);
  t.same(lines, [
    'validatingwebhookconfiguration.admissionregistration.k8s.io/sctp-guard deleted',
    'mutatingwebhookconfiguration.admissionregistration.k8s.io/sctp-guard deleted',
  ]);
  t.equal(fake.list(VWC).length + fake.list(MWC).length, 0);
  lines.length = 0;
  await unregister({ kubeconfig, dryRun: false }, print);
  t.match(lines, [/not found$/, /not found$/]);
});

t.test('errors name the problem: no CA file, not a certificate, API server refusing or unreachable', async (t) => {
  const { fake, dir, print, options } = await setup(t);
  await t.rejects(
    register(options({ caBundle: join(dir, 'missing.crt') }), print),
    /--ca-bundle .*missing\.crt: cannot read the CA certificate \(ENOENT\)/,
  );
  writeFileSync(join(dir, 'junk.crt'), 'not a certificate');
  await t.rejects(
    register(options({ caBundle: join(dir, 'junk.crt') }), print),
    /--ca-bundle .*junk\.crt: not a PEM certificate/,
  );
  await t.rejects(register(options({ caBundle: undefined }), print), /--ca-bundle FILE is required/);
  // No credentials anywhere kubectl would look: no KUBECONFIG, a HOME without .kube/config, not in a pod.
  const saved = {
    KUBECONFIG: process.env.KUBECONFIG,
    HOME: process.env.HOME,
    KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST,
  };
  delete process.env.KUBECONFIG;
  delete process.env.KUBERNETES_SERVICE_HOST;
  process.env.HOME = dir;
  t.teardown(() => {
    for (const [k, v] of Object.entries(saved)) void (v === undefined ? delete process.env[k] : (process.env[k] = v));
  });
  await t.rejects(
    register(options({ kubeconfig: undefined }), print),
    /no cluster to talk to: pass --kubeconfig, set KUBECONFIG/,
  );
  fake.outage = true;
  await t.rejects(
    register(options(), print),
    /^the API server at http:\/\/127\.0\.0\.1:\d+ is not serving \(503\): the server is currently unable/,
  );
  fake.outage = false;
  fake.forbid(VWC);
  await t.rejects(
    register(options(), print),
    /^apply \/apis\/admissionregistration\.k8s\.io\/v1\/validatingwebhookconfigurations\/sctp-guard: forbidden by RBAC \(403\)/,
  );
  fake.allow(VWC);
  await fake.stop();
  await t.rejects(register(options(), print), /cannot reach the API server/);
});

t.test(
  'the CLI: exit 0 on success, exit 2 with a clear message when the CA file is missing or the API server refuses',
  async (t) => {
    const { fake, dir, certs, kubeconfig } = await setup(t);
    const [ok, missing] = await Promise.all([
      runCli(['register', '--ca-bundle', certs.caCert], { env: { KUBECONFIG: kubeconfig } }),
      runCli(['register', '--kubeconfig', kubeconfig, '--ca-bundle', join(dir, 'nope.crt')]),
    ]);
    t.equal(ok.code, 0, ok.stderr);
    t.match(
      ok.stdout,
      /validatingwebhookconfiguration\.admissionregistration\.k8s\.io\/sctp-guard created/,
      'KUBECONFIG is honoured',
    );
    t.equal(missing.code, 2);
    t.match(missing.stderr, /^sctp-guard: --ca-bundle .*nope\.crt: cannot read the CA certificate/);
    fake.outage = true;
    const refused = await runCli(['unregister', '--kubeconfig', kubeconfig]);
    t.equal(refused.code, 2);
    t.match(refused.stderr, /^sctp-guard: the API server at http:\/\/127\.0\.0\.1:\d+ is not serving \(503\)/);
  },
);

t.test('flags: https URLs only, URL mode and service mode exclude each other, timeouts 1-30 s', async (t) => {
  const parse = async (...args: string[]) => {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    registerRegisterCommands(program);
    await program.parseAsync(['node', 'sctp-guard', 'register', '--dry-run', ...args]);
  };
  await t.rejects(parse('--url', 'http://10.0.0.1:8443'), /over https only/);
  await t.rejects(parse('--url', 'https://10.0.0.1:8443/?x=1'), /no query, fragment or user info/);
  await t.rejects(parse('--url', 'not a url'), /is not a URL/);
  await t.rejects(parse('--url', 'https://10.0.0.1:8443', '--service-name', 'x'), /exclude each other/);
  await t.rejects(parse('--timeout-seconds', '31'), /1 to 30 seconds/);
});
