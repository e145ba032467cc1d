import t from 'tap';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDevCerts } from '../../src/cli/certs.js';
import { readKeyPair } from '../../src/server/tls.js';
import { admissionReview, exampleObject, httpsPost, startHttpsApp, testDevCerts } from '../helpers/admission.js';

function handshake(
  port: number,
  options: ConnectionOptions,
): Promise<{ ok: boolean; socket?: TLSSocket; error?: Error }> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      rejectUnauthorized: false,
      ...options,
    });
    socket.once('secureConnect', () => resolve({ ok: true, socket }));
    socket.once('error', (error) => resolve({ ok: false, error }));
  });
}

t.test('TLS: 1.2 and 1.3 accepted, 1.1 refused, no non-forward-secret or CBC suites', async (t) => {
  const server = await startHttpsApp();
  t.teardown(server.close);
  const v13 = await handshake(server.port, {});
  t.equal(v13.socket?.getProtocol(), 'TLSv1.3');
  v13.socket?.destroy();
  const v12 = await handshake(server.port, { maxVersion: 'TLSv1.2' });
  t.equal(v12.socket?.getProtocol(), 'TLSv1.2');
  t.match(v12.socket?.getCipher().name, /^ECDHE-.*GCM|CHACHA20/, 'a forward-secret AEAD suite');
  v12.socket?.destroy();
  const v11 = await handshake(server.port, {
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.1',
    ciphers: 'DEFAULT:@SECLEVEL=0',
  });
  t.equal(v11.ok, false, 'TLS 1.1 refused');
  for (const weak of ['AES128-SHA', 'ECDHE-RSA-AES128-SHA', 'AES256-GCM-SHA384']) {
    const r = await handshake(server.port, { maxVersion: 'TLSv1.2', ciphers: weak });
    t.equal(r.ok, false, `${weak} refused`);
  }
});

t.test('--client-ca: only clients with a certificate from that CA are served', async (t) => {
  const clientCa = testDevCerts();
  const server = await startHttpsApp({ clientCa: readFileSync(clientCa.caCert) });
  t.teardown(server.close);
  const body = JSON.stringify(admissionReview(exampleObject('openshift-sctp-service-clusterip.yaml', 'Service')));
  await t.rejects(server.post('/validate', body), 'no client certificate: handshake refused');
  const stranger = writeDevCerts({ dir: mkdtempSync(join(tmpdir(), 'sctp-guard-stranger-')) });
  const bad = await handshake(server.port, { cert: readFileSync(stranger.cert), key: readFileSync(stranger.key) });
  if (bad.ok) {
    // TLS 1.3 reports the refusal after the handshake, on first read.
    const closed = await new Promise<boolean>((resolve) => {
      bad.socket!.once('error', () => resolve(true));
      bad.socket!.once('close', () => resolve(true));
      bad.socket!.write('GET /validate HTTP/1.1\r\nhost: x\r\n\r\n');
      bad.socket!.once('data', () => resolve(false));
    });
    t.ok(closed, 'a certificate from another CA is refused');
  } else t.pass('a certificate from another CA is refused');
  const pair = readKeyPair(clientCa.cert, clientCa.key);
  const ok = await new Promise<number>((resolve, reject) => {
    const socket = tlsConnect(
      { host: '127.0.0.1', port: server.port, servername: 'localhost', ca: server.ca, cert: pair.cert, key: pair.key },
      () => {
        socket.write(
          `POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
        );
      },
    );
    let text = '';
    socket.on('data', (d) => (text += d));
    socket.on('end', () => resolve(Number(text.split(' ')[1])));
    socket.on('error', reject);
  });
  t.equal(ok, 200, 'a certificate from the client CA is served');
});

t.test('slow clients are cut off: headers that never finish, a body that never arrives', async (t) => {
  const server = await startHttpsApp({ timeouts: { headersMs: 300, requestMs: 600 } });
  t.teardown(server.close);
  const slow = async (payload: string) => {
    const { socket } = await handshake(server.port, {});
    const started = Date.now();
    socket!.write(payload);
    const answer = await new Promise<string>((resolve) => {
      let text = '';
      socket!.on('data', (d) => (text += d));
      socket!.on('close', () => resolve(text));
      setTimeout(() => resolve(`still open: ${text}`), 5000).unref();
    });
    return { answer, ms: Date.now() - started };
  };
  const headers = await slow('POST /validate HTTP/1.1\r\nhost: localhost\r\n');
  t.notMatch(headers.answer, /^still open/, 'unfinished headers: connection closed');
  t.match(headers.answer, /^$|408/, 'closed, or told 408');
  const body = await slow(
    'POST /validate HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"a":',
  );
  t.notMatch(body.answer, /^still open/, 'a body that never arrives: connection closed');
  const next = await server.post(
    '/validate',
    JSON.stringify(admissionReview(exampleObject('openshift-sctp-service-clusterip.yaml', 'Service'))),
  );
  t.equal(next.statusCode, 200, 'the server still serves');
});

t.test('only the documented routes and methods', async (t) => {
  const server = await startHttpsApp();
  t.teardown(server.close);
  const req = (method: string, path: string) => httpsPost(server.port, server.ca, path, '', {}, method);
  t.equal((await req('GET', '/validate')).statusCode, 405);
  t.match((await req('GET', '/validate')).json().reason, /use POST/);
  t.equal((await req('PUT', '/mutate')).statusCode, 405);
  t.equal((await req('GET', '/')).statusCode, 404);
  t.equal((await req('GET', '/admin')).statusCode, 404);
  t.equal((await req('GET', '/validate/../etc/passwd')).statusCode, 404);
  // Probes, metrics and debug live on their own plain-HTTP listeners, never behind --client-ca.
  for (const path of ['/healthz', '/readyz', '/metrics', '/debug/nodes'])
    t.equal((await req('GET', path)).statusCode, 404, `no ${path} on the webhook port`);
  t.match((await req('GET', '/nope')).json().reason, /routes: POST \/validate, POST \/mutate$/);
});

t.test('--http2: HTTP/2 offered through ALPN, HTTP/1.1 still served', async (t) => {
  const { connect } = await import('node:http2');
  const server = await startHttpsApp({ http2: true });
  t.teardown(server.close);
  const body = JSON.stringify(
    admissionReview(exampleObject('ako-sctp-loadbalancer.yaml', 'Service'), { uid: 'h2-uid' }),
  );
  const session = connect(`https://localhost:${server.port}`, { ca: server.ca });
  t.teardown(() => session.close());
  const out = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': '/validate', 'content-type': 'application/json' });
    let status = 0;
    let text = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (d) => (text += d));
    stream.on('end', () => resolve({ status, text }));
    stream.on('error', reject);
    stream.end(body);
  });
  t.equal(out.status, 200);
  t.match(JSON.parse(out.text).response, { uid: 'h2-uid', allowed: false });
  const h1 = await server.post('/validate', body);
  t.equal(h1.json().response.uid, 'h2-uid', 'HTTP/1.1 too');
});

t.test('a TLS handshake that never finishes is cut at the header timeout; connections are capped', async (t) => {
  const { connect: netConnect } = await import('node:net');
  const { TRANSPORT_LIMITS } = await import('../../src/server/app.js');
  const server = await startHttpsApp({ timeouts: { headersMs: 300, requestMs: 600 } });
  t.teardown(server.close);
  t.equal(
    server.app.server.maxConnections,
    TRANSPORT_LIMITS.maxConnections,
    'the webhook listener has a connection cap',
  );
  const started = Date.now();
  const socket = netConnect({ host: '127.0.0.1', port: server.port });
  socket.on('connect', () => socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])));
  socket.on('error', () => {});
  const closed = await new Promise<boolean>((resolve) => {
    socket.on('close', () => resolve(true));
    setTimeout(() => resolve(false), 5000).unref();
  });
  socket.destroy();
  t.ok(closed, `half a ClientHello is closed after ${Date.now() - started} ms`);
});

t.test(
  '--http2: few concurrent streams, and a stream whose body dribbles is reset at the request timeout',
  async (t) => {
    const { connect, constants } = await import('node:http2');
    const { TRANSPORT_LIMITS } = await import('../../src/server/app.js');
    const server = await startHttpsApp({ http2: true, timeouts: { headersMs: 300, requestMs: 600 } });
    t.teardown(server.close);
    const session = connect(`https://localhost:${server.port}`, { ca: server.ca });
    t.teardown(() => session.destroy());
    await new Promise((resolve) => session.once('remoteSettings', resolve));
    t.equal(session.remoteSettings.maxConcurrentStreams, TRANSPORT_LIMITS.http2MaxConcurrentStreams);
    const stream = session.request({ ':method': 'POST', ':path': '/validate', 'content-type': 'application/json' });
    stream.on('error', () => {});
    stream.write('{"apiVersion":');
    const timer = setInterval(() => stream.write(' '), 100);
    const started = Date.now();
    const code = await new Promise<number | undefined>((resolve) => {
      stream.on('close', () => resolve(stream.rstCode));
      setTimeout(() => resolve(undefined), 5000).unref();
    });
    clearInterval(timer);
    t.equal(code, constants.NGHTTP2_CANCEL, `reset with CANCEL after ${Date.now() - started} ms`);
  },
);
