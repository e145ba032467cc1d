import t from 'tap';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { connect } from 'node:tls';
import { writeDevCerts } from '../../src/cli/certs.js';
import { GracefulShutdown } from '../../src/server/shutdown.js';
import {
  admissionReview,
  capturedLogger,
  exampleObject,
  httpGet,
  startHttpsApp,
  testProbeApp,
} from '../helpers/admission.js';
import { CLI, loopbackServe } from '../helpers/run-cli.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * A request whose body arrives in two parts: `finish()` sends the rest. Until then the request is in flight on
 * the server, as a review is while its rules run.
 */
function slowPost(port: number, ca: Buffer, path: string, body: string) {
  let finish!: () => void;
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        ca,
        servername: 'localhost',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    const half = Math.floor(body.length / 2);
    req.write(body.slice(0, half));
    finish = () => req.end(body.slice(half));
  });
  return { answer, finish: () => finish() };
}

function get(port: number, ca: Buffer, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, ca, servername: 'localhost', agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('unready first, still answering while draining, in-flight reviews finish, then exit 0', async (t) => {
  const { logger, lines } = capturedLogger();
  const exits: number[] = [];
  const steps: string[] = [];
  // eslint-disable-next-line prefer-const -- assigned below, after the apps whose draining callbacks read it
  let shutdown!: GracefulShutdown;
  const server = await startHttpsApp({ draining: () => shutdown.draining() });
  const probes = testProbeApp({ draining: () => shutdown.draining() });
  shutdown = new GracefulShutdown({
    server: { close: async () => Promise.all([server.app.close(), probes.close()]) },
    logger,
    // Long enough for a TLS handshake on a loaded machine: the review below must land inside the drain window.
    drainDelayMs: 1500,
    timeoutMs: 10_000,
    cleanup: [() => void steps.push('informers stopped'), async () => void steps.push('certificate watch closed')],
    exit: (code) => void exits.push(code),
  });
  t.equal((await probes.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  const review = admissionReview(exampleObject('ako-sctp-loadbalancer.yaml', 'Service'), { uid: 'in-flight-1' });
  const inFlight = slowPost(server.port, server.ca, '/validate', JSON.stringify(review));
  await sleep(50);

  const done = shutdown.run('SIGTERM');
  t.equal(shutdown.run('SIGTERM'), done, 'a second signal joins the shutdown under way');
  const ready = await probes.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 503, '/readyz is unready at once');
  t.same(ready.json(), { status: 'not ready', reason: 'shutting down' });
  const during = await server.post(
    '/validate',
    JSON.stringify(admissionReview(exampleObject('openshift-sctp-pod.yaml', 'Pod'))),
  );
  t.equal(during.statusCode, 200, 'reviews are still answered while endpoints converge');

  await sleep(1700); // past the drain delay: the server is closing, the in-flight review is still open
  t.same(exits, [], 'not before the in-flight review is answered');
  inFlight.finish();
  const answer = await inFlight.answer;
  t.equal(answer.status, 200);
  t.equal(JSON.parse(answer.body).response.uid, 'in-flight-1');
  t.equal(answer.headers.connection, 'close', 'kept-alive clients are told to reconnect elsewhere');
  await done;
  t.same(exits, [0]);
  t.same(steps, ['informers stopped', 'certificate watch closed'], 'cleanup after the server closed, in order');
  t.match(
    lines.map((l) => l.msg),
    ['shutting down: /readyz is now unready; still answering while endpoints converge', 'shutdown complete'],
  );
  await t.rejects(
    get(server.port, server.ca, '/validate'),
    /ECONNREFUSED|ECONNRESET|socket hang up/,
    'the port is closed',
  );
});

t.test('past the deadline the process exits anyway, with an error line', async (t) => {
  const { logger, lines } = capturedLogger();
  const exits: number[] = [];
  const shutdown = new GracefulShutdown({
    server: { close: () => new Promise(() => {}) }, // a request that never ends
    logger,
    drainDelayMs: 0,
    timeoutMs: 200,
    exit: (code) => void exits.push(code),
  });
  void shutdown.run('SIGTERM');
  await sleep(400);
  t.same(exits, [1]);
  t.match(lines.at(-1), { level: 50, msg: /shutdown took longer than 200 ms/ });
});

t.test('a failing cleanup step is logged and the rest still runs', async (t) => {
  const { logger, lines } = capturedLogger();
  const exits: number[] = [];
  const steps: string[] = [];
  const shutdown = new GracefulShutdown({
    server: { close: async () => {} },
    logger,
    drainDelayMs: 0,
    timeoutMs: 1000,
    cleanup: [
      () => {
        throw new Error('watch already closed');
      },
      () => void steps.push('second'),
    ],
    exit: (code) => void exits.push(code),
  });
  await shutdown.run('SIGINT');
  t.same(exits, [0]);
  t.same(steps, ['second']);
  t.match(lines, [
    {},
    { level: 40, err: 'watch already closed', msg: 'shutdown step failed' },
    { msg: 'shutdown complete' },
  ]);
});

t.test('a second Ctrl-C (SIGINT) exits at once with 130; a second SIGTERM waits for the drain', async (t) => {
  for (const [second, expected] of [
    ['SIGINT', [130]],
    ['SIGTERM', []],
  ] as const) {
    const { logger, lines } = capturedLogger();
    const exits: number[] = [];
    const shutdown = new GracefulShutdown({
      server: { close: () => new Promise(() => {}) },
      logger,
      drainDelayMs: 0,
      timeoutMs: 60_000,
      exit: (code) => void exits.push(code),
    });
    void shutdown.run('SIGINT');
    await sleep(50);
    void shutdown.run(second);
    t.same(exits, expected, `then ${second}`);
    if (second === 'SIGINT') t.match(lines.at(-1), { level: 40, msg: /second interrupt: exiting now/ });
  }
});

t.test(
  'the built server: SIGTERM drains every listener and exits 0; metrics and certificate reload are wired',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-serve-'));
    const first = writeDevCerts({ dir: join(dir, 'a') });
    const second = writeDevCerts({ dir: join(dir, 'b') });
    const cert = join(dir, 'tls.crt');
    const key = join(dir, 'tls.key');
    copyFileSync(first.cert, cert);
    copyFileSync(first.key, key);
    const child = spawn(
      process.execPath,
      [
        CLI,
        ...loopbackServe({ cert, key }),
        '--health-probe-bind-address',
        '127.0.0.1:0',
        '--metrics-bind-address',
        '127.0.0.1:0',
        '--shutdown-delay',
        '0.3',
        '--shutdown-timeout',
        '10',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    t.teardown(() => void child.kill('SIGKILL'));
    const lines: Array<Record<string, any>> = [];
    const waiters: Array<() => void> = [];
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(JSON.parse(line) as Record<string, any>);
      waiters.splice(0).forEach((w) => w());
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const logLine = async (msg: string | RegExp, ms = 60_000) => {
      const until = Date.now() + ms;
      for (;;) {
        const found = lines.find((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(String(l.msg))));
        if (found) return found;
        if (Date.now() > until) throw new Error(`no log line ${String(msg)}; stderr: ${stderr}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    };

    const listening = await logLine('sctp-guard listening');
    const { port, probePort, metricsPort } = listening as { port: number; probePort: number; metricsPort: number };
    t.ok(port > 0 && probePort > 0 && metricsPort > 0, 'the ports the OS chose are logged');

    const metrics = await httpGet(metricsPort, '/metrics');
    t.equal(metrics.statusCode, 200);
    t.match(metrics.body, /sctp_guard_serving_certificate_expiry_timestamp_seconds \d+/);
    t.match(metrics.body, /process_resident_memory_bytes/);

    copyFileSync(second.key, key);
    copyFileSync(second.cert, cert);
    const reloaded = await logLine('serving certificate reloaded: new connections use it', 10_000);
    const served = await new Promise<string>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
        resolve(s.getPeerCertificate().serialNumber);
        s.end();
      });
      s.on('error', reject);
    });
    t.equal(served, reloaded.serial, 'a new connection gets the reloaded certificate');

    const review = admissionReview(exampleObject('ako-sctp-loadbalancer.yaml', 'Service'), { uid: 'last-review' });
    const newCa = readFileSync(second.caCert);
    const inFlight = slowPost(port, newCa, '/validate', JSON.stringify(review));
    await sleep(100);
    child.kill('SIGTERM');
    await logLine(/^shutting down/, 10_000);
    t.equal((await httpGet(probePort, '/readyz')).statusCode, 503, 'unready while draining');
    inFlight.finish();
    const answer = await inFlight.answer;
    t.equal(answer.status, 200, 'the review in flight is answered');
    t.equal(JSON.parse(answer.body).response.allowed, false);
    t.equal(await exited, 0, stderr);
    const auditAt = lines.findIndex((l) => l.uid === 'last-review');
    const completeAt = lines.findIndex((l) => l.msg === 'shutdown complete');
    t.ok(auditAt >= 0 && auditAt < completeAt, 'its audit line is written before the process exits');
    for (const p of [port, probePort, metricsPort])
      await t.rejects(httpGet(p, '/'), /ECONNREFUSED/, `port ${p} is closed`);
  },
);
