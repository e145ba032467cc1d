import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CORE_TYPES, FakeApiServer } from '../helpers/fake-apiserver.js';
import { runCli } from '../helpers/run-cli.js';

// Cluster access as kubectl does it, for every command that talks to a cluster (audit here): --context, a merged
// KUBECONFIG list, and errors that name the file and the failing cause. Against the in-process API server.
const api = new FakeApiServer({ types: Object.values(CORE_TYPES) });
let kubeconfig = '';
let dir = '';

t.before(async () => {
  await api.start();
  dir = mkdtempSync(join(tmpdir(), 'sctp-guard-kube-'));
  kubeconfig = api.writeKubeconfig(dir);
  for (const name of ['lb-a', 'lb-b']) api.upsert(CORE_TYPES.services, { metadata: { name, namespace: 'telco' }, spec: { type: 'LoadBalancer', ports: [{ port: 3868, protocol: 'SCTP' }] } });
});
t.teardown(async () => {
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

const lines = (text: string) => text.split('\n').filter(Boolean);

t.test('kubectl-like access: --context, a merged KUBECONFIG list, and errors that name the file and the cause', async (t) => {
  const fake = readFileSync(kubeconfig, 'utf8');
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const gone = `https://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  // Two contexts, the current one pointing at a server that is gone: --context picks the live one.
  const two = join(dir, 'two-contexts.yaml');
  writeFileSync(
    two,
    fake
      .replace('clusters: [{name: fake,', `clusters: [{name: gone, cluster: {server: '${gone}'}}, {name: fake,`)
      .replace('contexts: [{name: fake, context: {cluster: fake, user: fake}}]', 'contexts: [{name: fake, context: {cluster: fake, user: fake}}, {name: old, context: {cluster: gone, user: fake}}]')
      .replace('current-context: fake', 'current-context: old'),
  );
  const [withContext, withoutContext, unknownContext] = await Promise.all([
    runCli(['audit', '--kubeconfig', two, '--context', 'fake']),
    runCli(['audit', '--kubeconfig', two]),
    runCli(['audit', '--kubeconfig', two, '--context', 'nope']),
  ]);
  t.equal(withContext.code, 1, withContext.stderr);
  t.match(lines(withContext.stdout).at(-1), /objects audited.*: 2 denied/);
  t.equal(withoutContext.code, 2);
  t.match(withoutContext.stderr, `sctp-guard: cannot reach the API server at ${gone}: connection refused (ECONNREFUSED)`);
  t.equal(unknownContext.code, 2);
  t.equal(unknownContext.stderr, 'sctp-guard: context "nope" is not in the kubeconfig (contexts: fake, old)\n');

  // KUBECONFIG=a:b:c as kubectl merges it: b names the current context, c defines it, a does not exist.
  const contextOnly = join(dir, 'context-only.yaml');
  writeFileSync(contextOnly, 'apiVersion: v1\nkind: Config\ncurrent-context: fake\n');
  const merged = await runCli(['audit'], { env: { KUBECONFIG: [join(dir, 'missing.yaml'), contextOnly, two].join(':') } });
  t.equal(merged.code, 1, merged.stderr);
  t.match(lines(merged.stdout).at(-1), /objects audited.*: 2 denied/, 'the first file to set current-context wins');

  const broken = join(dir, 'broken.yaml');
  writeFileSync(broken, 'clusters: [unclosed\n');
  const noCurrent = join(dir, 'no-current.yaml');
  writeFileSync(noCurrent, fake.replace('current-context: fake', ''));
  const [bad, none, missing] = await Promise.all([
    runCli(['audit', '--kubeconfig', broken]),
    runCli(['audit', '--kubeconfig', noCurrent]),
    runCli(['audit', '--kubeconfig', join(dir, 'nope.yaml')]),
  ]);
  t.match(bad.stderr, new RegExp(`^sctp-guard: kubeconfig ${broken}: not a valid kubeconfig: `));
  t.equal(none.stderr, `sctp-guard: kubeconfig ${noCurrent}: it sets no current-context; pick a context with --context (contexts: fake)\n`);
  t.notMatch(none.stderr, 'pass --kubeconfig', 'never suggested when it was passed');
  t.equal(missing.stderr, `sctp-guard: kubeconfig ${join(dir, 'nope.yaml')}: no such file (ENOENT)\n`);
  for (const r of [bad, none, missing]) t.equal(r.code, 2);
});

t.test('a 403 is missing RBAC, named with its verb and resource, not rejected credentials', async (t) => {
  api.forbid(CORE_TYPES.services);
  t.teardown(() => api.allow(CORE_TYPES.services));
  const r = await runCli(['audit', '--kubeconfig', kubeconfig]);
  t.equal(r.code, 2);
  t.match(r.stderr, /^sctp-guard: audit: services: list \/api\/v1\/services: forbidden by RBAC \(403\): .*/m);
  t.notMatch(r.stderr, /rejected the credentials/);
});

