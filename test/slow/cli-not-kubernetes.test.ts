import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { writeDevCerts } from '../../src/cli/certs.js';
import { runCli } from '../helpers/run-cli.js';

// A kubeconfig that points at an HTTPS server that is not Kubernetes (a web server answering 404 pages): every
// command that talks to a cluster says so and exits 2, before it lists anything (issue 24 item 5). Before, audit
// printed "0 objects audited" (exit 0), serve became ready, remediate found nothing to apply.
const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-not-kube-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const certs = writeDevCerts({ dir, hosts: ['127.0.0.1'] });
const server = createServer({ cert: readFileSync(certs.cert), key: readFileSync(certs.key) }, (_req, res) => {
  res.writeHead(404, { 'content-type': 'text/html' });
  res.end('<html><body><h1>Not Found</h1></body></html>');
});

t.test('every cluster command exits 2 naming the server and what answered', async (t) => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  const ca = readFileSync(certs.caCert).toString('base64');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: web, cluster: {server: '${url}', certificate-authority-data: ${ca}}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: web, context: {cluster: web, user: u}}]\ncurrent-context: web\n`,
  );
  const expected = `sctp-guard: ${url} is not a Kubernetes API server: GET /version answered 404 text/html\n`;
  const runs = await Promise.all([
    runCli(['audit', '--kubeconfig', kubeconfig]),
    runCli(['audit', '--kubeconfig', kubeconfig, '-o', 'policyreport', '--write-reports']),
    runCli(['register', '--kubeconfig', kubeconfig, '--ca-bundle', certs.caCert]),
    runCli(['unregister', '--kubeconfig', kubeconfig]),
    runCli(['remediate', '--kubeconfig', kubeconfig]),
    runCli(['check', '--kubeconfig', kubeconfig, '-f', 'examples/openshift-sctp-service-clusterip.yaml']),
    runCli(['serve', '--kubeconfig', kubeconfig, '--port', '0', '--tls-cert', certs.cert, '--tls-key', certs.key], {
      timeoutMs: 60_000,
    }),
    runCli(['preflight', '--kubeconfig', kubeconfig, '--to', '4.19']),
  ]);
  for (const [i, name] of [
    'audit',
    'audit --write-reports',
    'register',
    'unregister',
    'remediate',
    'check --kubeconfig',
    'serve --kubeconfig',
    'preflight --kubeconfig',
  ].entries()) {
    t.equal(runs[i]!.code, 2, `${name}: exit 2`);
    t.equal(
      runs[i]!.stderr.split('\n')
        .filter((l) => !l.startsWith('{'))
        .join('\n'),
      expected,
      `${name}: one line naming the server`,
    );
    t.equal(
      runs[i]!.stdout.split('\n')
        .filter((l) => l && !l.startsWith('{'))
        .join('\n'),
      '',
      `${name}: nothing printed as a result`,
    );
  }
});
