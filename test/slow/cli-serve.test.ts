import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { writeDevCerts } from '../../src/cli/certs.js';
import { bindAddress, registerServeCommand } from '../../src/cli/serve.js';
import { admissionReview, exampleObject, httpGet, httpsPost } from '../helpers/admission.js';
import { CLI, listeningOf, loopbackServe, runCli } from '../helpers/run-cli.js';

const certs = writeDevCerts({ dir: mkdtempSync(join(tmpdir(), 'sctp-guard-serve-')) });
const review = JSON.stringify(admissionReview(exampleObject('openshift-sctp-service-clusterip.yaml', 'Service')));

/** `sctp-guard serve ARGS` until its "listening" line; killed at the end of the test. */
async function startServe(t: Test, args: string[]) {
  const child = spawn(process.execPath, [CLI, ...loopbackServe(certs), '--shutdown-delay', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KUBECONFIG: '' },
  });
  t.teardown(() => void child.kill('SIGKILL'));
  return { ...(await listeningOf(child)), child };
}

t.test('--client-ca guards the webhook only: probes and metrics answer on their own plain-HTTP ports', async (t) => {
  const server = await startServe(t, [
    '--client-ca',
    certs.caCert,
    '--health-probe-bind-address',
    '127.0.0.1:0',
    '--metrics-bind-address',
    '127.0.0.1:0',
    '--debug-endpoints',
  ]);
  const ready = await httpGet(server.probePort!, '/readyz');
  t.equal(ready.statusCode, 200, '/readyz: the kubelet needs no client certificate');
  t.match(ready.json(), { status: 'ready' });
  t.equal((await httpGet(server.probePort!, '/healthz')).statusCode, 200);
  t.match(
    (await httpGet(server.probePort!, '/debug/nodes')).json(),
    { source: 'none', nodes: [] },
    '/debug/nodes is on the probe port with --debug-endpoints',
  );
  const metrics = await httpGet(server.metricsPort!, '/metrics');
  t.equal(metrics.statusCode, 200);
  t.match(metrics.contentType, /^text\/plain; version=0\.0\.4/, 'Prometheus text format');
  t.match(metrics.body, /^# HELP sctp_guard_/m);
  t.equal((await httpGet(server.metricsPort!, '/readyz')).statusCode, 404, 'each listener serves its own routes');
  await t.rejects(
    httpsPost(server.port, readFileSync(certs.caCert), '/validate', review, { 'content-type': 'application/json' }),
    'a webhook call without a client certificate is refused',
  );
});

t.test('0 turns a listener off; a port in use is a start-up error that leaves nothing listening', async (t) => {
  const off = await startServe(t, ['--health-probe-bind-address', '0', '--metrics-bind-address', '0']);
  t.notOk('probePort' in off || 'metricsPort' in off, 'no probe or metrics listener');
  off.child.kill('SIGTERM');

  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => void taken.close());
  const port = (taken.address() as AddressInfo).port;
  const res = await runCli([
    ...loopbackServe(certs),
    '--health-probe-bind-address',
    '127.0.0.1:0',
    '--metrics-bind-address',
    `127.0.0.1:${port}`,
  ]);
  t.equal(res.code, 2, 'exits instead of serving half');
  t.match(
    res.stderr,
    /cannot listen on 127\.0\.0\.1:\d+ for the metrics: the address is in use .*choose another with --metrics-bind-address/,
  );
});

t.test('bind addresses: controller-runtime syntax and defaults :8081 (probes) and :8080 (metrics)', async (t) => {
  t.same(bindAddress(':8081'), { host: '0.0.0.0', port: 8081 });
  t.same(bindAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  t.same(bindAddress('[::1]:9090'), { host: '::1', port: 9090 });
  t.equal(bindAddress('0'), undefined);
  for (const bad of ['8080', ':99999', 'host:', '::1:80', ''])
    t.throws(() => bindAddress(bad), /expected \[host\]:port/, bad);
  const program = new Command();
  registerServeCommand(program);
  const serve = program.commands.find((c) => c.name() === 'serve')!;
  const defaults = serve.opts() as Record<string, unknown>;
  t.same(defaults.healthProbeBindAddress, { host: '0.0.0.0', port: 8081 });
  t.same(defaults.metricsBindAddress, { host: '0.0.0.0', port: 8080 });
  t.same(defaults.port, 8443);
});
