/**
 * Hostile input (issue 23): each attack class replayed against the built server, started as a child process with
 * the Deployment's NODE_OPTIONS, asserting the answer, the time it takes and the peak RSS (VmHWM) against the
 * Deployment's memory limit.
 */
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as http2Connect, constants as h2, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { writeDevCerts } from '../../src/cli/certs.js';
import { admissionReview, httpGet, httpsPost } from '../helpers/admission.js';
import { repoPath } from '../helpers/repo.js';
import { CLI, listeningOf, loopbackServe, runCli, type Listening } from '../helpers/run-cli.js';

const certs = writeDevCerts({ dir: mkdtempSync(join(tmpdir(), 'sctp-guard-hostile-')) });
const ca = readFileSync(certs.caCert);
const MiB = 1024 * 1024;

/** The container's memory limit and NODE_OPTIONS, read from the manifest the installs apply. */
const deployment = (() => {
  const doc = parse(readFileSync(repoPath('deploy/base/deployment.yaml'), 'utf8'));
  const container = doc.spec.template.spec.containers[0];
  const nodeOptions = container.env.find((e: { name: string }) => e.name === 'NODE_OPTIONS').value as string;
  const limit = String(container.resources.limits.memory);
  const m = /^(\d+)Mi$/.exec(limit);
  if (!m) throw new Error(`memory limit ${limit} is not in Mi`);
  return { nodeOptions, limitBytes: Number(m[1]) * MiB };
})();

interface Server extends Listening {
  child: ChildProcess;
  pid: number;
}

async function startServer(t: Test, args: string[] = []): Promise<Server> {
  const child = spawn(
    process.execPath,
    [
      CLI,
      ...loopbackServe(certs),
      '--shutdown-delay',
      '0',
      '--health-probe-bind-address',
      '127.0.0.1:0',
      '--metrics-bind-address',
      '127.0.0.1:0',
      ...args,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: '', NODE_OPTIONS: deployment.nodeOptions },
    },
  );
  const kill = () => void child.kill('SIGKILL');
  t.teardown(kill);
  // A test that times out skips its teardown: no server outlives the file.
  process.once('exit', kill);
  return { ...(await listeningOf(child)), child, pid: child.pid! };
}

/** VmHWM (peak RSS) or VmRSS of a process, in bytes. */
function memory(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} for ${pid}`);
  return Number(m[1]) * 1024;
}

const mb = (bytes: number) => `${(bytes / MiB).toFixed(0)} MB`;

function underLimit(t: Test, pid: number, what: string): void {
  const peak = memory(pid, 'VmHWM');
  t.ok(
    peak < deployment.limitBytes,
    `${what}: peak RSS ${mb(peak)} stays under the Deployment's limit ${mb(deployment.limitBytes)}`,
  );
}

/** 1 GiB of zeros as concatenated gzip members (Go's gzip.Reader and zlib read multistream): about 1 MB. */
function gzipBomb(): Buffer {
  const member = gzipSync(Buffer.alloc(64 * MiB));
  return Buffer.concat(Array.from({ length: 16 }, () => member));
}
const BOMB_URL = `data:;base64,${gzipBomb().toString('base64')}`;

function bombMachineConfig(name: string) {
  return {
    apiVersion: 'machineconfiguration.openshift.io/v1',
    kind: 'MachineConfig',
    metadata: { name, labels: { 'machineconfiguration.openshift.io/role': 'worker' } },
    spec: {
      config: {
        ignition: { version: '3.2.0' },
        storage: {
          files: [
            {
              path: '/etc/modprobe.d/sctp-blacklist.conf',
              mode: 420,
              overwrite: true,
              contents: { source: BOMB_URL, compression: 'gzip' },
            },
            {
              path: '/etc/modules-load.d/sctp.conf',
              mode: 420,
              overwrite: true,
              contents: { source: BOMB_URL, compression: 'gzip' },
            },
            { path: '/etc/bomb.bin', mode: 420, overwrite: true, contents: { source: BOMB_URL, compression: 'gzip' } },
          ],
        },
      },
    },
  };
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/** POST over HTTPS; a server that does not answer within `ms` fails the request instead of hanging the file. */
function post(port: number, path: string, body: string, ms = 20_000) {
  return Promise.race([
    httpsPost(port, ca, path, body, JSON_HEADERS),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer to POST ${path} within ${ms} ms`)), ms).unref(),
    ),
  ]);
}

function get(port: number, path: string, ms = 20_000) {
  return Promise.race([
    httpGet(port, path),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no answer to GET ${path} within ${ms} ms`)), ms).unref(),
    ),
  ]);
}

/** Each class is bounded in time: a server that hangs fails its test, not the whole file. */
const BOUNDED = { timeout: 90_000 };

t.test(
  'a gzip bomb in a MachineConfig is answered in time, without decoding it, and probes stay responsive',
  BOUNDED,
  async (t) => {
    const server = await startServer(t);
    const before = memory(server.pid, 'VmHWM');
    const body = JSON.stringify(admissionReview(bombMachineConfig('99-worker-bomb')));
    const started = performance.now();
    let healthMs = 0;
    const health = (async () => {
      await new Promise((r) => setTimeout(r, 50));
      const at = performance.now();
      await get(server.probePort!, '/healthz');
      healthMs = performance.now() - at;
    })();
    // The MachineConfig rules that read file contents mutate (the Ignition translation) and validate (SCTP facts).
    const res = await post(server.port, '/mutate', body).catch((err: Error) => ({
      statusCode: 0,
      body: err.message,
      json: () => ({}),
    }));
    const ms = performance.now() - started;
    await health.catch(() => (healthMs = Infinity));
    t.comment(`before: ${mb(before)}, peak: ${mb(memory(server.pid, 'VmHWM'))}, ${ms.toFixed(0)} ms`);
    t.equal(res.statusCode, 200, 'a verdict, not an error');
    const response = res.json().response;
    t.type(response.allowed, 'boolean');
    t.match(
      JSON.stringify(response),
      /more than \d+ (KiB|MiB)|cannot tell/,
      'the answer says the content was too large to read',
    );
    t.ok(ms < 10_000, `answered in ${ms.toFixed(0)} ms`);
    t.ok(healthMs < 3000, `/healthz answered in ${healthMs.toFixed(0)} ms meanwhile`);
    const peak = memory(server.pid, 'VmHWM');
    t.ok(
      peak - before < 32 * MiB + body.length * 4,
      `peak RSS rose ${mb(peak - before)} for a ${mb(body.length)} request`,
    );
    const validate = await post(server.port, '/validate', body);
    t.equal(validate.statusCode, 200, '/validate too');
    underLimit(t, server.pid, 'gzip bomb request');
  },
);

t.test(
  'a gzip bomb stored in the cluster state: serve and check --cluster-state read it without decoding it',
  BOUNDED,
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-hostile-state-'));
    writeFileSync(
      join(dir, 'machineconfigs.yaml'),
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [bombMachineConfig('99-worker-bomb')] }),
    );
    const started = performance.now();
    const server = await startServer(t, ['--cluster-state', dir]);
    const ms = performance.now() - started;
    t.ok(ms < 15_000, `serve started in ${ms.toFixed(0)} ms`);
    underLimit(t, server.pid, 'serve --cluster-state with a stored gzip bomb');
    server.child.kill('SIGKILL');

    const manifest = join(dir, 'service.yaml');
    writeFileSync(
      manifest,
      'apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: default}\nspec: {ports: [{port: 1, protocol: SCTP}]}\n',
    );
    let peak = 0;
    const check = spawn(process.execPath, [CLI, 'check', '--cluster-state', dir, '-f', manifest], {
      stdio: 'ignore',
      env: { ...process.env, KUBECONFIG: '', NODE_OPTIONS: deployment.nodeOptions },
    });
    const poll = setInterval(() => {
      try {
        peak = Math.max(peak, memory(check.pid!, 'VmHWM'));
      } catch {
        // exited between polls
      }
    }, 20);
    const checkStarted = performance.now();
    const code = await new Promise<number | null>((resolve) => check.on('exit', resolve));
    clearInterval(poll);
    t.not(code, null, 'check exits by itself');
    t.ok(performance.now() - checkStarted < 30_000, 'check finishes in time');
    t.ok(peak < deployment.limitBytes, `check --cluster-state: peak RSS ${mb(peak)} (polled)`);
  },
);

t.test('client-chosen kinds never become metrics labels: the registry and a scrape stay small', BOUNDED, async (t) => {
  const server = await startServer(t);
  await get(server.metricsPort!, '/metrics');
  const before = memory(server.pid, 'VmRSS');
  for (let i = 0; i < 100; i++) {
    const kind = `K${i}`.padEnd(MiB, 'x');
    const review = admissionReview({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: `w${i}`, namespace: 'default' },
    });
    review.request.kind.kind = kind;
    const res = await post(server.port, '/validate', JSON.stringify(review));
    if (res.statusCode !== 200) t.fail(`request ${i}: ${res.statusCode} ${res.body.slice(0, 200)}`);
  }
  const started = performance.now();
  const scrape = await get(server.metricsPort!, '/metrics');
  const ms = performance.now() - started;
  t.equal(scrape.statusCode, 200);
  t.ok(scrape.body.length < 256 * 1024, `the scrape is ${(scrape.body.length / 1024).toFixed(0)} KB`);
  t.notMatch(scrape.body, /K\d+xxxx/, 'no client-chosen kind in the labels');
  t.match(scrape.body, /sctp_guard_admission_requests_total\{[^}]*kind="other"/, 'counted as kind="other"');
  t.ok(ms < 5000, `scraped in ${ms.toFixed(0)} ms`);
  const after = memory(server.pid, 'VmRSS');
  t.ok(after - before < 64 * MiB, `RSS after 100 MB of kinds: ${mb(before)} -> ${mb(after)}`);
  underLimit(t, server.pid, 'huge kinds and a scrape');
});

/** Opens `n` TCP connections that send the start of a TLS record and then nothing. */
async function halfHandshakes(port: number, n: number): Promise<Array<{ socket: Socket; closedAt?: number }>> {
  const conns: Array<{ socket: Socket; closedAt?: number }> = [];
  for (let i = 0; i < n; i++) {
    const socket = netConnect({ port, host: '127.0.0.1' });
    const conn: { socket: Socket; closedAt?: number } = { socket };
    socket.on('error', () => {});
    socket.on('close', () => (conn.closedAt = performance.now()));
    socket.on('connect', () => socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])));
    conns.push(conn);
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 10));
  }
  return conns;
}

t.test('half-open TLS handshakes are cut within the header timeout and capped in number', BOUNDED, async (t) => {
  const server = await startServer(t);
  const started = performance.now();
  const conns = await halfHandshakes(server.port, 1500);
  t.teardown(() => conns.forEach((c) => c.socket.destroy()));
  // Before the first handshake timeout (10 s): only the connections over the cap are closed by then.
  await new Promise((r) => setTimeout(r, 6000));
  const early = conns.filter((c) => c.closedAt !== undefined).length;
  t.ok(early >= 1500 - 1024, `connections over the cap are closed at once (${early} of 1500 closed after 6 s)`);
  underLimit(t, server.pid, '1500 half-open handshakes');
  const deadline = started + 16_000;
  while (performance.now() < deadline && conns.some((c) => c.closedAt === undefined))
    await new Promise((r) => setTimeout(r, 250));
  const open = conns.filter((c) => c.closedAt === undefined).length;
  t.equal(open, 0, `every half-open handshake is closed by the server within 16 s (${open} still open)`);
  const res = await post(
    server.port,
    '/validate',
    JSON.stringify(
      admissionReview({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } }),
    ),
  );
  t.equal(res.statusCode, 200, 'the webhook answers again afterwards');
});

function h2Session(port: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`https://127.0.0.1:${port}`, { ca, servername: 'localhost' });
    session.on('error', reject);
    session.on('remoteSettings', () => resolve(session));
  });
}

t.test(
  'HTTP/2: few concurrent streams, and a stream that dribbles its body is cut as HTTP/1.1 is',
  BOUNDED,
  async (t) => {
    const server = await startServer(t, ['--http2']);
    const session = await h2Session(server.port);
    t.teardown(() => session.destroy());
    const max = session.remoteSettings.maxConcurrentStreams ?? Infinity;
    t.ok(max <= 128, `the server advertises ${max} concurrent streams`);

    // A flood of streams that never end their body: the ones over the limit are refused, memory stays bounded.
    const flood = Array.from({ length: 1000 }, () => {
      const stream = session.request({ ':method': 'POST', ':path': '/validate', 'content-type': 'application/json' });
      stream.on('error', () => {});
      stream.write('{"a":');
      return stream;
    });
    t.teardown(() => flood.forEach((s) => s.destroy()));
    await new Promise((r) => setTimeout(r, 2000));
    underLimit(t, server.pid, 'a flood of 1000 open streams');
    for (const s of flood) s.close(h2.NGHTTP2_CANCEL);

    const dribbler = await h2Session(server.port);
    t.teardown(() => dribbler.destroy());
    const stream = dribbler.request({ ':method': 'POST', ':path': '/validate', 'content-type': 'application/json' });
    stream.on('error', () => {});
    const timer = setInterval(() => stream.write(' '), 1000);
    t.teardown(() => clearInterval(timer));
    stream.write('{"apiVersion":');
    const started = performance.now();
    const outcome = await new Promise<string>((resolve) => {
      stream.on('response', (headers) => resolve(`status ${String(headers[':status'])}`));
      stream.on('close', () => resolve(`closed (code ${stream.rstCode})`));
      setTimeout(() => resolve('still open'), 40_000);
    });
    clearInterval(timer);
    const seconds = (performance.now() - started) / 1000;
    t.not(outcome, 'still open', `the dribbling stream ends: ${outcome} after ${seconds.toFixed(1)} s`);
    t.ok(seconds < 35, 'cut at the request timeout (30 s)');
  },
);

t.test(
  '4 MiB of empty JSON objects is refused before it is parsed; as many brackets inside strings are data',
  BOUNDED,
  async (t) => {
    const server = await startServer(t);
    const cm = (x: string) =>
      `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"","version":"v1","kind":"ConfigMap"},"operation":"CREATE","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"d"},"x":${x}}}}`;
    const n = Math.floor((4 * MiB - 400) / 3);
    const started = performance.now();
    const res = await post(server.port, '/validate', cm(`[${Array(n).fill('{}').join(',')}]`));
    const ms = performance.now() - started;
    t.equal(res.statusCode, 413, `1.4 million objects: ${res.body.slice(0, 120)}`);
    t.ok(ms < 3000, `answered in ${ms.toFixed(0)} ms`);
    const inString = await post(server.port, '/validate', cm(JSON.stringify('{}'.repeat(n))));
    t.equal(inString.statusCode, 200, 'the same brackets in a string are no objects');
    underLimit(t, server.pid, '4 MiB of empty objects');
  },
);

/** A JSON text with keys that a JS object literal cannot spell (`__proto__` sets the prototype there). */
function withKeys(value: unknown): string {
  return JSON.stringify(value).replaceAll('"PROTO_KEY"', '"__proto__"');
}

t.test(
  '__proto__, constructor and prototype keys are data: every valid JSON body gets a verdict',
  BOUNDED,
  async (t) => {
    const server = await startServer(t);
    const mc = {
      apiVersion: 'machineconfiguration.openshift.io/v1',
      kind: 'MachineConfig',
      metadata: {
        name: '99-worker-proto',
        labels: { 'machineconfiguration.openshift.io/role': 'worker', constructor: 'x', prototype: 'y' },
      },
      spec: {
        config: {
          ignition: { version: '3.2.0' },
          PROTO_KEY: { storage: { files: [] } },
          storage: {
            files: [{ path: '/etc/x', contents: { source: 'data:,x', PROTO_KEY: {} }, constructor: { prototype: 1 } }],
          },
        },
      },
    };
    const res = await post(server.port, '/validate', withKeys(admissionReview(mc)));
    t.equal(res.statusCode, 200, `a verdict, not "${res.statusCode === 400 ? res.json().reason : ''}"`);
    const response = res.json().response;
    t.type(response.allowed, 'boolean');

    // Read whole: an SCTP LoadBalancer with such keys is denied as without them.
    const lb = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'lb', namespace: 'default', PROTO_KEY: { a: 1 } },
      spec: { type: 'LoadBalancer', PROTO_KEY: {}, constructor: 1, ports: [{ port: 80, protocol: 'SCTP' }] },
    };
    const denied = await post(server.port, '/validate', withKeys(admissionReview(lb)));
    t.equal(denied.statusCode, 200);
    t.equal(denied.json().response.allowed, false, 'the SCTP LoadBalancer is still denied');

    const envelope = withKeys({
      PROTO_KEY: { polluted: true },
      ...admissionReview({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' } }),
    });
    const second = await post(server.port, '/validate', envelope);
    t.equal(second.statusCode, 200, 'a __proto__ key in the envelope is data too');
    t.notOk('polluted' in second.json().response, 'and sets no prototype');
  },
);

t.test('a certificate whose validity cannot be read ends serve with exit 2 and one clear line', BOUNDED, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-hostile-certs-'));
  // X.509 ends at 9999-12-31 (RFC 5280 GeneralizedTime): ~3,000,000 days is year 10,000 and beyond.
  const made = await runCli(['certs', '--dir', dir, '--days', '3000000']);
  if (made.code !== 0) {
    t.pass(`certs refuses such --days itself (${made.stderr.trim()})`);
    return;
  }
  const res = await runCli(
    [
      ...loopbackServe({ cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key') }),
      '--health-probe-bind-address',
      '0',
      '--metrics-bind-address',
      '0',
    ],
    { timeoutMs: 15_000 },
  );
  t.equal(res.code, 2, 'exit 2, not a server left running');
  t.match(res.stderr + res.stdout, /certificate/i, 'the line names the certificate');
});
