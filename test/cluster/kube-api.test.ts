import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { KubeApi, KubeError } from '../../src/cluster/kube-api.js';
import type { UnreadStrings } from '../../src/input/elided-strings.js';
import { loadCredentials } from '../../src/cluster/kubeconfig.js';
import { LiveClusterSource, liveApi } from '../../src/cluster/live-source.js';
import { capturedLogger } from '../helpers/admission.js';
import { CORE_TYPES, FakeApiServer } from '../helpers/fake-apiserver.js';

/** A web server that is not Kubernetes: every path answers `status` with an HTML page. */
async function webServer(t: Test, status: number): Promise<string> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<html><body>Not Found</body></html>');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function kubeconfigFor(dir: string, server: string, user = '{token: t}'): string {
  const file = join(dir, 'kubeconfig.yaml');
  writeFileSync(
    file,
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: '${server}'}}]\nusers: [{name: u, user: ${user}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
  );
  return file;
}

t.test('discovery: a server that answers but is not Kubernetes is named, with what answered', async (t) => {
  const dir = t.testdir();
  for (const [status, what] of [
    [404, '404 text/html'],
    [200, '200 text/html, not a version.Info with gitVersion'],
  ] as const) {
    const url = await webServer(t, status);
    const api = liveApi({ kubeconfig: kubeconfigFor(dir, url), env: {} })!;
    await t.rejects(
      api.verifyKubernetes(),
      new KubeError('not-kubernetes', `${url} is not a Kubernetes API server: GET /version answered ${what}`, status),
    );
    // serve's live source refuses to start on it (serve exits 2) instead of reading it as a cluster without nodes.
    const source = new LiveClusterSource(api, { logger: capturedLogger().logger });
    t.teardown(() => source.stop());
    await t.rejects(source.start(), { name: 'KubeError', kind: 'not-kubernetes' } as never);
    t.equal(source.readiness().ready, false);
  }
  const fake = new FakeApiServer({ types: [CORE_TYPES.nodes] });
  await fake.start();
  t.teardown(() => fake.stop());
  await liveApi({ kubeconfig: fake.writeKubeconfig(dir), env: {} })!.verifyKubernetes();
  t.same(fake.requests.map((r) => r.path).sort(), ['/api', '/apis', '/version']);
});

t.test('server-side apply: one field manager, created then configured, fields of others kept, deletes', async (t) => {
  const fake = new FakeApiServer({ types: [CORE_TYPES.services] });
  await fake.start();
  t.teardown(() => fake.stop());
  const api = liveApi({ kubeconfig: fake.writeKubeconfig(t.testdir()), env: {} })!;
  const path = '/api/v1/namespaces/ns/services/s';
  const object = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 's', namespace: 'ns', labels: { mine: 'a' } },
    spec: { type: 'ClusterIP' },
  };
  t.equal(await api.apply(path, object), 'created');
  fake.upsert(CORE_TYPES.services, {
    ...fake.get(CORE_TYPES.services, 's', 'ns')!,
    metadata: { ...fake.get(CORE_TYPES.services, 's', 'ns')!.metadata, labels: { mine: 'a', theirs: 'b' } },
  });
  t.equal(await api.apply(path, { ...object, metadata: { ...object.metadata, labels: { mine: 'c' } } }), 'configured');
  t.same(fake.get(CORE_TYPES.services, 's', 'ns')!.metadata.labels, { mine: 'c', theirs: 'b' });
  t.same(
    fake.requests.filter((r) => r.method === 'PATCH').map((r) => [r.contentType, r.query.get('fieldManager')]),
    [
      ['application/apply-patch+yaml', 'sctp-guard'],
      ['application/apply-patch+yaml', 'sctp-guard'],
    ],
  );
  const stale = fake.get(CORE_TYPES.services, 's', 'ns')!.metadata.resourceVersion;
  fake.upsert(CORE_TYPES.services, fake.get(CORE_TYPES.services, 's', 'ns')!);
  await t.rejects(api.apply(path, { ...object, metadata: { ...object.metadata, resourceVersion: stale } }), {
    name: 'KubeError',
    kind: 'conflict',
    status: 409,
  } as never);
  t.equal(await api.delete(path), true);
  t.equal(await api.delete(path), false);
  t.equal(await api.read(path), undefined);
  fake.forbid(CORE_TYPES.services);
  await t.rejects(api.read(path), {
    name: 'KubeError',
    kind: 'forbidden',
    message: /^get \/api\/v1\/namespaces\/ns\/services\/s: forbidden by RBAC \(403\)/,
  });
});

t.test('credentials as kubectl reads them: relative files, exec plugins, no auth-provider', async (t) => {
  const dir = t.testdir({ 'token.txt': 'from-file\n', 'ca.crt': 'CA PEM' });
  const tokenFile = loadCredentials({
    kubeconfig: kubeconfigFor(dir, 'https://k:6443', '{tokenFile: token.txt}'),
    env: {},
  })!;
  t.same(
    await tokenFile.auth(),
    { headers: { authorization: 'Bearer from-file' } },
    'tokenFile relative to the kubeconfig',
  );
  const withCa = readFileSync(kubeconfigFor(dir, 'https://k:6443'), 'utf8').replace(
    "cluster: {server: 'https://k:6443'}",
    "cluster: {server: 'https://k:6443/', certificate-authority: ca.crt, tls-server-name: api.k}",
  );
  writeFileSync(join(dir, 'ca.yaml'), withCa);
  const ca = loadCredentials({ kubeconfig: join(dir, 'ca.yaml'), env: {} })!;
  t.match(ca, {
    server: 'https://k:6443',
    tls: { ca: Buffer.from('CA PEM'), rejectUnauthorized: true, servername: 'api.k' },
  });

  // An exec plugin (client.authentication.k8s.io/v1): run once, its token kept until it expires or a 401.
  const plugin = join(dir, 'plugin.sh');
  writeFileSync(
    plugin,
    `#!/bin/sh\necho run >> ${join(dir, 'runs')}\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"exec-'"$GREETING"'"}}'\n`,
  );
  chmodSync(plugin, 0o755);
  const exec = loadCredentials({
    kubeconfig: kubeconfigFor(
      dir,
      'https://k:6443',
      `{exec: {apiVersion: client.authentication.k8s.io/v1, command: ./plugin.sh, env: [{name: GREETING, value: hi}]}}`,
    ),
    env: {},
  })!;
  t.same((await exec.auth()).headers, { authorization: 'Bearer exec-hi' });
  await exec.auth();
  t.equal(readFileSync(join(dir, 'runs'), 'utf8'), 'run\n', 'cached');
  exec.rejected();
  await exec.auth();
  t.equal(readFileSync(join(dir, 'runs'), 'utf8'), 'run\nrun\n', 'a 401 runs it again');
  const missing = loadCredentials({
    kubeconfig: kubeconfigFor(
      dir,
      'https://k:6443',
      `{exec: {apiVersion: client.authentication.k8s.io/v1, command: no-such-plugin, installHint: 'install it'}}`,
    ),
    env: {},
  })!;
  await t.rejects(missing.auth(), /user "u": exec plugin no-such-plugin not found; install it$/);
  t.throws(
    () =>
      loadCredentials({ kubeconfig: kubeconfigFor(dir, 'https://k:6443', '{auth-provider: {name: gcp}}'), env: {} }),
    /auth-provider "gcp" is not supported .*use an exec credential plugin/,
  );
});

t.test('an API module error for every way a request fails: unreachable names the server and the cause', async (t) => {
  const api = new KubeApi(loadCredentials({ kubeconfig: kubeconfigFor(t.testdir(), 'http://127.0.0.1:1'), env: {} })!);
  await t.rejects(api.verifyKubernetes(), {
    name: 'KubeError',
    kind: 'unreachable',
    message:
      'cannot reach the API server at http://127.0.0.1:1: connection refused (ECONNREFUSED): nothing listens at that address and port',
  });
});

t.test('a watch hands over every event whole, however its lines are cut into chunks', async (t) => {
  // A rendered MachineConfig's size: its line arrives in many chunks, some ending one event and starting the next.
  const big = { type: 'ADDED', object: { metadata: { name: 'rendered-worker-1' }, data: 'x'.repeat(600_000) } };
  const small = { type: 'MODIFIED', object: { metadata: { name: 'rendered-worker-1' } } };
  const text = `${JSON.stringify(small)}\n\n${JSON.stringify(big)}\n${JSON.stringify(small)}\n`;
  const cuts = [10, 70_000, 70_001, 300_000, text.length - 40, text.length];
  const server: Server = createServer(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    let from = 0;
    for (const cut of cuts) {
      res.write(text.slice(from, cut));
      from = cut;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const api = new KubeApi(loadCredentials({ kubeconfig: kubeconfigFor(t.testdir(), url), env: {} })!);
  const events: unknown[] = [];
  await api.watch('/api/v1/nodes', '1', { idleMs: 5000 }, (e) => events.push(e));
  t.same(events, [small, big, small]);

  // What the caller never reads stays out (paths are the object's); anything else long is put back.
  const unreadData: UnreadStrings = (_object, path) => path.length === 1 && path[0] === 'data';
  const elided: Array<{ object: { data?: string } }> = [];
  await api.watch('/api/v1/nodes', '1', { idleMs: 5000, unread: unreadData }, (e) => elided.push(e as never));
  t.same(
    elided.map((e) => ({ ...e, object: { ...e.object, data: undefined } })),
    [small, { ...big, object: { ...big.object, data: undefined } }, small],
  );
  t.match(elided[1]!.object.data, /^\u0000elided:/, 'the long value left out');
  const all: unknown[] = [];
  await api.watch('/api/v1/nodes', '1', { idleMs: 5000, unread: () => false }, (e) => all.push(e));
  t.same(all, [small, big, small], 'nothing left out when every value is read');
});

t.test('a list leaves out of items that span chunks the values the caller never reads', async (t) => {
  const api = new FakeApiServer({ types: [CORE_TYPES.nodes] });
  await api.start();
  t.teardown(() => api.stop());
  const big = (name: string) => ({
    metadata: { name, annotations: { kept: 'k'.repeat(70_000) } },
    spec: { podCIDR: 'x'.repeat(300_000) },
  });
  for (const name of ['a', 'b']) api.upsert(CORE_TYPES.nodes, big(name) as never);
  api.upsert(CORE_TYPES.nodes, { metadata: { name: 'c' }, spec: {} } as never);
  const kube = new KubeApi(loadCredentials({ kubeconfig: api.writeKubeconfig(t.testdir()), env: {} })!);
  const items: Array<{ metadata: { name: string; annotations?: { kept: string } }; spec: { podCIDR?: string } }> = [];
  await kube.list('/api/v1/nodes', { limit: 2, unread: (_o, path) => path.join('.') === 'spec.podCIDR' }, (item) =>
    items.push(item as never),
  );
  t.same(
    items.map((i) => i.metadata.name),
    ['a', 'b', 'c'],
  );
  for (const i of items.slice(0, 2)) {
    t.equal(i.metadata.annotations?.kept, 'k'.repeat(70_000), 'a value the caller reads is put back');
    t.match(i.spec.podCIDR, /^\u0000elided:/, 'a value it never reads is left out');
  }
  t.match(items[2], { metadata: { name: 'c' }, spec: {} }, 'a small item as it was sent');
});
