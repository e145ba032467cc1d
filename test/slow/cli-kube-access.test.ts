import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createClusterSource } from '../../src/cluster/source.js';
import { capturedLogger } from '../helpers/admission.js';
import { CORE_TYPES, FakeApiServer } from '../helpers/fake-apiserver.js';
import { runCli } from '../helpers/run-cli.js';

// Cluster access as kubectl does it, for every command that talks to a cluster and for serve's informers: --context,
// a merged KUBECONFIG list, and errors that name the file and the failing cause. Against the in-process API server.
const api = new FakeApiServer({ types: Object.values(CORE_TYPES) });
let kubeconfig = '';
let dir = '';

t.before(async () => {
  await api.start();
  dir = mkdtempSync(join(tmpdir(), 'sctp-guard-kube-'));
  kubeconfig = api.writeKubeconfig(dir);
  for (const name of ['lb-a', 'lb-b'])
    api.upsert(CORE_TYPES.services, {
      metadata: { name, namespace: 'telco' },
      spec: { type: 'LoadBalancer', ports: [{ port: 3868, protocol: 'SCTP' }] },
    });
});
t.teardown(async () => {
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

const lines = (text: string) => text.split('\n').filter(Boolean);

t.test(
  'kubectl-like access: --context, a merged KUBECONFIG list, and errors that name the file and the cause',
  async (t) => {
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
        .replace(
          'contexts: [{name: fake, context: {cluster: fake, user: fake}}]',
          'contexts: [{name: fake, context: {cluster: fake, user: fake}}, {name: old, context: {cluster: gone, user: fake}}]',
        )
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
    t.match(
      withoutContext.stderr,
      `sctp-guard: cannot reach the API server at ${gone}: connection refused (ECONNREFUSED)`,
    );
    t.equal(unknownContext.code, 2);
    t.equal(
      unknownContext.stderr,
      `sctp-guard: kubeconfig ${two}: context "nope" is not in it (contexts: fake, old)\n`,
    );

    // KUBECONFIG=a:b:c as kubectl merges it: b names the current context, c defines it, a does not exist.
    const contextOnly = join(dir, 'context-only.yaml');
    writeFileSync(contextOnly, 'apiVersion: v1\nkind: Config\ncurrent-context: fake\n');
    const merged = await runCli(['audit'], {
      env: { KUBECONFIG: [join(dir, 'missing.yaml'), contextOnly, two].join(':') },
    });
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
    t.equal(
      none.stderr,
      `sctp-guard: kubeconfig ${noCurrent}: it sets no current-context; pick a context with --context (contexts: fake)\n`,
    );
    t.notMatch(none.stderr, 'pass --kubeconfig', 'never suggested when it was passed');
    t.equal(missing.stderr, `sctp-guard: kubeconfig ${join(dir, 'nope.yaml')}: no such file (ENOENT)\n`);
    for (const r of [bad, none, missing]) t.equal(r.code, 2);

    // serve reads the kubeconfig before it writes its development certificates into the working directory.
    const empty = mkdtempSync(join(dir, 'serve-'));
    const serve = await runCli(['serve', '--kubeconfig', broken], { cwd: empty });
    t.equal(serve.code, 2);
    t.match(serve.stderr, new RegExp(`^sctp-guard: kubeconfig ${broken}: not a valid kubeconfig: `));
    t.same(readdirSync(empty), [], 'nothing written');
  },
);

t.test('a 403 is missing RBAC, named with its verb and resource, not rejected credentials', async (t) => {
  api.forbid(CORE_TYPES.services);
  t.teardown(() => api.allow(CORE_TYPES.services));
  const r = await runCli(['audit', '--kubeconfig', kubeconfig]);
  t.equal(r.code, 2);
  t.match(r.stderr, /^sctp-guard: audit: services: list \/api\/v1\/services: forbidden by RBAC \(403\): .*/m);
  t.notMatch(r.stderr, /rejected the credentials/);
});

t.test(
  "serve's informers, check and remediate load the kubeconfig the same way: --context and a merged KUBECONFIG",
  async (t) => {
    const fake = readFileSync(kubeconfig, 'utf8');
    // The current context of this file points at a port where nothing listens.
    const two = join(dir, 'serve-two.yaml');
    writeFileSync(
      two,
      fake
        .replace(
          'clusters: [{name: fake,',
          "clusters: [{name: gone, cluster: {server: 'https://127.0.0.1:1'}}, {name: fake,",
        )
        .replace(
          'contexts: [{name: fake, context: {cluster: fake, user: fake}}]',
          'contexts: [{name: fake, context: {cluster: fake, user: fake}}, {name: old, context: {cluster: gone, user: fake}}]',
        )
        .replace('current-context: fake', 'current-context: old'),
    );
    const contextOnly = join(dir, 'serve-context-only.yaml');
    writeFileSync(contextOnly, 'apiVersion: v1\nkind: Config\ncurrent-context: fake\n');
    const list = [join(dir, 'missing.yaml'), contextOnly, two].join(':');
    const { logger } = capturedLogger('fatal');
    api.upsert(CORE_TYPES.nodes, { metadata: { name: 'w1', labels: { 'node-role.kubernetes.io/worker': '' } } });
    t.teardown(() => api.remove(CORE_TYPES.nodes, 'w1'));
    const backoff = { initialMs: 20, maxMs: 100 };

    const ready = async (source: Awaited<ReturnType<typeof createClusterSource>>) => {
      await source.start();
      t.teardown(() => source.stop());
      for (let i = 0; i < 300 && !source.readiness().ready; i++) await new Promise((r) => setTimeout(r, 10));
      return source;
    };
    const merged = await ready(await createClusterSource({ env: { KUBECONFIG: list }, logger, backoff }));
    t.equal(merged.readiness().ready, true, `merged KUBECONFIG: ${merged.readiness().reason}`);
    t.match(
      merged.status().find((s) => s.resource === 'nodes'),
      { synced: true },
    );
    const picked = await ready(await createClusterSource({ kubeconfig: two, context: 'fake', logger, backoff }));
    t.equal(picked.readiness().ready, true, `--context: ${picked.readiness().reason}`);
    const current = await ready(await createClusterSource({ kubeconfig: two, logger, backoff }));
    t.match(
      current.readiness(),
      {
        ready: false,
        reason:
          'waiting for the API server: cannot reach the API server at https://127.0.0.1:1: connection refused (ECONNREFUSED): nothing listens at that address and port',
      },
      "without --context: the current context, and readiness says why in the CLI's words",
    );
    await t.rejects(createClusterSource({ kubeconfig: two, context: 'nope', logger }), {
      message: `kubeconfig ${two}: context "nope" is not in it (contexts: fake, old)`,
    });

    const env = { KUBECONFIG: list };
    const [checked, remediated, wrong] = await Promise.all([
      runCli(['check', '--context', 'fake', '-f', 'examples/openshift-sctp-service-clusterip.yaml'], { env }),
      runCli(['remediate', '--context', 'fake'], { env }),
      runCli(['remediate', '--context', 'nope'], { env }),
    ]);
    t.equal(checked.code, 0, checked.stderr);
    t.equal(remediated.code, 0, remediated.stderr);
    t.match(remediated.stdout, /1 node \(w1\): no node label/, 'remediate read the node through the merged list');
    t.equal(wrong.code, 2);
    t.equal(
      wrong.stderr,
      `sctp-guard: kubeconfig ${[contextOnly, two].join(':')}: context "nope" is not in it (contexts: fake, old)\n`,
      'the merged list is named, without the file that does not exist',
    );
  },
);
