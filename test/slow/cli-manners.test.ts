/**
 * kubectl-like manners of the built CLI: a bare command prints help, start-up errors are one line naming the flag to
 * change, a second Ctrl-C ends at once (`npx sctp-guard` in a fresh clone: npx.test.ts).
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDevCerts } from '../../src/cli/certs.js';
import { CLI, listeningOf, loopbackServe, runCli } from '../helpers/run-cli.js';

const work = mkdtempSync(join(tmpdir(), 'sctp-guard-manners-'));
const pair = writeDevCerts({ dir: join(work, 'a') });
const other = writeDevCerts({ dir: join(work, 'b') });
const TLS = ['--tls-cert', pair.cert, '--tls-key', pair.key];

t.test('a bare sctp-guard prints the help on stdout and exits 0', async (t) => {
  const r = await runCli([], { timeoutMs: 20_000 });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^Usage: sctp-guard \[options\] \[command\]/);
  t.match(r.stdout, /\n {2}serve \[options\] +run the admission webhook/);
  t.equal(r.stderr, '');
});

t.test('a port in use is one line that names the flag to change', async (t) => {
  const taken: Server = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => void taken.close());
  const port = (taken.address() as { port: number }).port;
  const cases: Array<[string[], RegExp]> = [
    [
      ['--port', String(port), '--health-probe-bind-address', '0', '--metrics-bind-address', '0'],
      new RegExp(
        `^sctp-guard: cannot listen on 127\\.0\\.0\\.1:${port} for the webhook: the address is in use .*; choose another with --port \\(0: any free port\\) or --host\\n$`,
      ),
    ],
    [
      ['--port', '0', '--health-probe-bind-address', `127.0.0.1:${port}`, '--metrics-bind-address', '0'],
      new RegExp(
        `^sctp-guard: cannot listen on 127\\.0\\.0\\.1:${port} for the probes: the address is in use .*; choose another with --health-probe-bind-address \\(host:port, or 0 to turn it off\\)\\n$`,
      ),
    ],
    [
      ['--port', '0', '--health-probe-bind-address', '0', '--metrics-bind-address', `127.0.0.1:${port}`],
      /choose another with --metrics-bind-address/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(['serve', '--host', '127.0.0.1', ...TLS, ...args]);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.stderr.replace(/^\{.*\}\n/gm, ''), message);
  }
});

t.test("a key that is not the certificate's is one line naming both flags", async (t) => {
  const r = await runCli([
    'serve',
    '--port',
    '0',
    '--tls-cert',
    pair.cert,
    '--tls-key',
    other.key,
    '--health-probe-bind-address',
    '0',
    '--metrics-bind-address',
    '0',
  ]);
  t.equal(r.code, 2);
  t.equal(
    r.stderr,
    `sctp-guard: --tls-key ${other.key} is not the private key of the certificate in --tls-cert ${pair.cert} (OpenSSL: key values mismatch); pass the key the certificate was issued for\n`,
  );
});

t.test('Ctrl-C starts the graceful shutdown; a second Ctrl-C exits at once', async (t) => {
  const child = spawn(
    process.execPath,
    [
      CLI,
      ...loopbackServe(pair),
      '--health-probe-bind-address',
      '127.0.0.1:0',
      '--metrics-bind-address',
      '0',
      '--shutdown-delay',
      '60',
      '--shutdown-timeout',
      '90',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: '' } },
  );
  t.teardown(() => void child.kill('SIGKILL'));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  await listeningOf(child);
  child.kill('SIGINT');
  for (let i = 0; i < 100 && !out.includes('shutting down'); i++) await new Promise((r) => setTimeout(r, 100));
  t.match(out, /shutting down/, 'the first one drains (60 s here)');
  const sent = Date.now();
  child.kill('SIGINT');
  t.equal(await exited, 130, 'the second one exits with 130');
  t.ok(Date.now() - sent < 5000, `within ${Date.now() - sent} ms`);
  t.match(out, /second interrupt: exiting now/);
});
