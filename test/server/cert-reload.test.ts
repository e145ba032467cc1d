import t, { type Test } from 'tap';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { writeDevCerts, type DevCertFiles } from '../../src/cli/certs.js';
import { CertificateReloader, describeCertificate, type SecureContextTarget } from '../../src/server/cert-reload.js';
import { capturedLogger, testApp, testDevCerts } from '../helpers/admission.js';

const serialOf = (file: string) => new X509Certificate(readFileSync(file)).serialNumber;

/** The serial of the certificate a brand-new TLS connection is served. */
function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.end();
      resolve(serial);
    });
    socket.on('error', reject);
  });
}

async function eventually(what: string, check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

// RSA key generation is the slow part of these tests: two pairs, made once, serve every test.
const first = testDevCerts();
const second = writeDevCerts({ dir: mkdtempSync(join(tmpdir(), 'sctp-guard-pair-')) });

/** A serving pair in files of its own (a copy of the first pair) that a test may overwrite. */
function servingFiles(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-serving-'));
  const files = { cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key') };
  copyFileSync(first.cert, files.cert);
  copyFileSync(first.key, files.key);
  return files;
}

async function serve(t: Test, certFile: string, keyFile: string) {
  const { logger, lines } = capturedLogger();
  const reloader = new CertificateReloader({ certFile, keyFile, logger, debounceMs: 50, pollIntervalMs: 0 });
  const { app } = testApp({ tls: reloader.pair });
  await app.listen({ port: 0, host: '127.0.0.1' });
  reloader.start(app.server as unknown as SecureContextTarget);
  t.teardown(async () => {
    reloader.close();
    await app.close();
  });
  return { port: (app.server.address() as AddressInfo).port, reloader, lines };
}

t.test('new connections get the new pair when the files change; open connections keep working', async (t) => {
  const { cert, key } = servingFiles();
  const { port, reloader, lines } = await serve(t, cert, key);
  t.equal(await servedSerial(port), serialOf(first.cert));
  t.equal(reloader.certificate.serial, serialOf(first.cert));

  // A kept-alive connection opened before the swap (GET /validate: any answer is one, here 405).
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: readFileSync(first.caCert) });
  t.teardown(() => agent.destroy());
  const get = () =>
    new Promise<{ status: number; serial: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/validate', agent, servername: 'localhost' }, (res) => {
        const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, serial }));
      });
      req.on('error', reject);
      req.end();
    });
  t.same(await get(), { status: 405, serial: serialOf(first.cert) });

  // As `cp` does it: the key first, then the certificate (in between, the pair does not match).
  copyFileSync(second.key, key);
  copyFileSync(second.cert, cert);
  await eventually(
    'a new connection sees the new serial',
    async () => (await servedSerial(port)) === serialOf(second.cert),
  );
  t.equal(reloader.certificate.serial, serialOf(second.cert));
  t.match(
    lines.find((l) => l.msg === 'serving certificate reloaded: new connections use it'),
    { serial: serialOf(second.cert), previous: { serial: serialOf(first.cert) } },
  );
  t.same(
    await get(),
    { status: 405, serial: serialOf(first.cert) },
    'the connection opened before still answers, on its own session',
  );
});

t.test('a broken new pair is refused with a log line, and the pair in use stays', async (t) => {
  const { cert, key } = servingFiles();
  const { port, reloader, lines } = await serve(t, cert, key);
  const refusals = () =>
    lines.filter((l) => l.level === 50 && /refused the new serving certificate pair/.test(String(l.msg)));

  copyFileSync(second.cert, cert); // the key stays the old one: a mismatched pair
  await eventually('the mismatch is refused', () => refusals().length === 1);
  t.match(refusals()[0], { reason: /key values mismatch/, keeping: { serial: serialOf(first.cert) }, certFile: cert });
  t.equal(await servedSerial(port), serialOf(first.cert), 'still the old certificate');

  t.equal(await reloader.reload(), 'rejected');
  t.equal(refusals().length, 1, 'the same broken pair is reported once, not on every poll');

  writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
  await eventually('the garbage certificate is refused', () => refusals().length === 2);
  t.equal(await servedSerial(port), serialOf(first.cert));
  t.equal(reloader.certificate.serial, serialOf(first.cert));

  const expired = writeDevCerts({ dir: mkdtempSync(join(tmpdir(), 'sctp-guard-expired-')), days: -1 });
  copyFileSync(expired.key, key);
  copyFileSync(expired.cert, cert);
  await eventually('the expired certificate is refused', () =>
    refusals().some((l) => /expired at/.test(String(l.reason))),
  );
  t.equal(await servedSerial(port), serialOf(first.cert));

  // Past 9999-12-31 OpenSSL cannot print notAfter ("Bad time value"): refused, not an "Invalid time value" throw.
  const unreadable = writeDevCerts({ dir: mkdtempSync(join(tmpdir(), 'sctp-guard-far-')), days: 3_000_000 });
  copyFileSync(unreadable.key, key);
  copyFileSync(unreadable.cert, cert);
  await eventually('the certificate with an unreadable notAfter is refused', () =>
    refusals().some((l) => /notAfter cannot be read/.test(String(l.reason))),
  );
  t.equal(await servedSerial(port), serialOf(first.cert));
  t.throws(() => describeCertificate(readFileSync(unreadable.cert)), /X\.509 dates end at 9999-12-31/);

  copyFileSync(first.cert, cert);
  copyFileSync(first.key, key);
  t.equal(await reloader.reload(), 'unchanged', 'the files back as they were: nothing to do');
});

t.test('a Secret volume update (an atomic swap of the ..data symlink) is picked up', async (t) => {
  const mount = mkdtempSync(join(tmpdir(), 'sctp-guard-secret-'));
  // kubelet's AtomicWriter layout: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>/
  const version = (name: string, files: DevCertFiles) => {
    mkdirSync(join(mount, name));
    copyFileSync(files.cert, join(mount, name, 'tls.crt'));
    copyFileSync(files.key, join(mount, name, 'tls.key'));
  };
  version('..v1', first);
  symlinkSync('..v1', join(mount, '..data'));
  symlinkSync('..data/tls.crt', join(mount, 'tls.crt'));
  symlinkSync('..data/tls.key', join(mount, 'tls.key'));
  const { port } = await serve(t, join(mount, 'tls.crt'), join(mount, 'tls.key'));
  t.equal(await servedSerial(port), serialOf(first.cert));

  version('..v2', second);
  symlinkSync('..v2', join(mount, '..data_tmp'));
  renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
  await eventually('the swapped pair is served', async () => (await servedSerial(port)) === serialOf(second.cert));
  t.pass('reloaded without a restart');
});

t.test('polling catches changes the watcher missed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-serving-'));
  const cert = join(dir, 'tls.crt');
  const key = join(dir, 'tls.key');
  copyFileSync(first.cert, cert);
  copyFileSync(first.key, key);
  const { logger } = capturedLogger();
  const reloader = new CertificateReloader({ certFile: cert, keyFile: key, logger, pollIntervalMs: 100 });
  const swapped: string[] = [];
  reloader.start({ setSecureContext: (o) => void swapped.push(describeCertificate(o.cert as Buffer).serial) });
  reloader['watchers'].forEach((w: { close(): void }) => w.close()); // as if the filesystem sent no events
  t.teardown(() => reloader.close());
  copyFileSync(second.key, key);
  copyFileSync(second.cert, cert);
  await eventually('the poll reloads', () => swapped.length === 1);
  t.same(swapped, [serialOf(second.cert)]);
});

t.test('at start-up a broken pair is an error, not a server without a certificate', async (t) => {
  const { logger } = capturedLogger();
  t.throws(() => new CertificateReloader({ certFile: first.cert, keyFile: second.key, logger }), /key values mismatch/);
  t.throws(
    () => new CertificateReloader({ certFile: join(tmpdir(), 'no-such.crt'), keyFile: first.key, logger }),
    /ENOENT/,
  );
});
