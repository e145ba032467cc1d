import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type forge from 'node-forge';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_WEBHOOK_NAMESPACE } from '../policy/presets.js';

export const DEFAULT_CERT_DIR = 'certs';
export const DEFAULT_SERVICE_NAME = 'sctp-guard';

export interface DevCertOptions {
  dir: string;
  namespace?: string;
  service?: string;
  /** Extra DNS names or IPs for the serving certificate. */
  hosts?: string[];
  days?: number;
  /** Replace files that exist (never through a symbolic link); without it an existing output file is an error. */
  force?: boolean;
}

export interface DevCertFiles {
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

let forgeModule: typeof forge | undefined;
/** node-forge (11 MB of RSS) is loaded by the commands that make certificates, not by every `serve`. */
function loadForge(): typeof forge {
  return (forgeModule ??= createRequire(import.meta.url)('node-forge') as typeof forge);
}
const pki = () => loadForge().pki;

function rsaKeyPair(): forge.pki.rsa.KeyPair {
  // Node's native key generation; forge only builds and signs the certificates.
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const key = pki().privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { privateKey: key, publicKey: pki().rsa.setPublicKey(key.n, key.e) };
}

/** The last instant an X.509 validity date can hold (GeneralizedTime has four year digits, RFC 5280 4.1.2.5). */
const X509_LAST = Date.UTC(9999, 11, 31, 23, 59, 59);

/** `--days`: at least 1, and no notAfter past 9999-12-31 (OpenSSL and Node refuse such a certificate). */
export function certDays(value: string, now = Date.now()): number {
  const n = Number(value);
  const most = Math.floor((X509_LAST - now) / 86_400_000);
  if (!Number.isInteger(n) || n < 1 || n > most)
    throw new InvalidArgumentError(
      `expected whole days from 1 to ${most} (a certificate cannot end after 9999-12-31), got "${value}"`,
    );
  return n;
}

function newCertificate(publicKey: forge.pki.PublicKey, days: number): forge.pki.Certificate {
  const cert = pki().createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 5 * 60_000);
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000);
  return cert;
}

/** The names the API server and local tools use to reach the webhook. */
export function servingNames(namespace: string, service: string, extra: string[] = []): string[] {
  return [
    ...new Set([
      'localhost',
      '127.0.0.1',
      '::1',
      service,
      `${service}.${namespace}`,
      `${service}.${namespace}.svc`,
      `${service}.${namespace}.svc.cluster.local`,
      ...extra,
    ]),
  ];
}

function devCertFiles(dir: string): DevCertFiles {
  return {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    cert: join(dir, 'tls.crt'),
    key: join(dir, 'tls.key'),
  };
}

function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Every output path checked before anything is made: a symbolic link is refused even with --force (writing through
 * one would put a private key wherever it points), and without --force so is any file that exists.
 */
function checkOutputs(files: DevCertFiles, force: boolean): void {
  const existing: string[] = [];
  for (const file of Object.values(files)) {
    const st = lstatOrUndefined(file);
    if (st?.isSymbolicLink())
      throw new Error(`${file} is a symbolic link: certs never writes through one; remove it or choose another --dir`);
    if (st && !st.isFile())
      throw new Error(`${file} exists and is not a regular file; remove it or choose another --dir`);
    if (st) existing.push(file);
  }
  if (existing.length > 0 && !force) {
    throw new Error(
      `${existing.join(', ')} exist${existing.length === 1 ? 's' : ''}: a new CA would invalidate every caBundle and certificate made from it; pass --force to replace ${existing.length === 1 ? 'it' : 'them'}, or --dir for another folder`,
    );
  }
}

/**
 * Created exclusively (O_EXCL: an existing file or link is never opened; O_NOFOLLOW for good measure) with its final
 * mode; a file being replaced is written beside it and renamed over it, which replaces the entry, not a link target.
 */
function writeOutput(file: string, data: string, mode: number): void {
  const replacing = lstatOrUndefined(file) !== undefined;
  const target = replacing ? `${file}.${process.pid}.new` : file;
  const fd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    writeSync(fd, data);
    fchmodSync(fd, mode);
  } catch (err) {
    closeSync(fd);
    rmSync(target, { force: true });
    throw err;
  }
  closeSync(fd);
  if (replacing) renameSync(target, file);
}

/** A development CA and a serving certificate signed by it; private keys are written 0600. */
export function writeDevCerts(options: DevCertOptions): DevCertFiles {
  const days = options.days ?? 365;
  const files = devCertFiles(options.dir);
  checkOutputs(files, options.force ?? false);
  const names = servingNames(
    options.namespace ?? DEFAULT_WEBHOOK_NAMESPACE,
    options.service ?? DEFAULT_SERVICE_NAME,
    options.hosts,
  );
  const ca = rsaKeyPair();
  const caCert = newCertificate(ca.publicKey, days);
  const caSubject = [{ name: 'commonName', value: 'sctp-guard development CA' }];
  caCert.setSubject(caSubject);
  caCert.setIssuer(caSubject);
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  caCert.sign(ca.privateKey, loadForge().md.sha256.create());

  const leaf = rsaKeyPair();
  const cert = newCertificate(leaf.publicKey, days);
  cert.setSubject([{ name: 'commonName', value: names[4]! }]);
  cert.setIssuer(caSubject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    // clientAuth too, so that one dev pair can also stand in for the API server's client certificate (--client-ca).
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    {
      name: 'subjectAltName',
      altNames: names.map((n) => (/^[\d.]+$|:/.test(n) ? { type: 7, ip: n } : { type: 2, value: n })),
    },
  ]);
  cert.sign(ca.privateKey, loadForge().md.sha256.create());

  mkdirSync(options.dir, { recursive: true });
  writeOutput(files.caKey, pki().privateKeyToPem(ca.privateKey), 0o600);
  writeOutput(files.key, pki().privateKeyToPem(leaf.privateKey), 0o600);
  writeOutput(files.caCert, pki().certificateToPem(caCert), 0o644);
  writeOutput(files.cert, pki().certificateToPem(cert), 0o644);
  return files;
}

/**
 * `npm start` on a fresh clone: make dev certs only when the pair is missing, never overwrite (a folder holding
 * some of the files is an error that names them, from writeDevCerts).
 */
export function ensureDevCerts(certFile: string, keyFile: string, dir: string): DevCertFiles | undefined {
  if (existsSync(certFile) && existsSync(keyFile)) return undefined;
  return writeDevCerts({ dir });
}

export function registerCertsCommand(program: Command): void {
  program
    .command('certs')
    .description('write a development CA and a serving certificate (localhost, 127.0.0.1, in-cluster Service names)')
    .option('--dir <dir>', 'output folder', DEFAULT_CERT_DIR)
    .option('--namespace <ns>', 'namespace of the webhook Service', DEFAULT_WEBHOOK_NAMESPACE)
    .option('--service <name>', 'name of the webhook Service', DEFAULT_SERVICE_NAME)
    .option('--host <name...>', 'extra DNS names or IP addresses for the serving certificate', [])
    .option('--days <n>', 'validity in days (1 or more, ending by 9999-12-31)', (v) => certDays(v), 365)
    .option(
      '--force',
      'replace existing files (never through a symbolic link); every certificate the old CA signed stops being trusted',
      false,
    )
    .action(
      (opts: { dir: string; namespace: string; service: string; host: string[]; days: number; force: boolean }) => {
        const files = writeDevCerts({
          dir: opts.dir,
          namespace: opts.namespace,
          service: opts.service,
          hosts: opts.host,
          days: opts.days,
          force: opts.force,
        });
        process.stdout.write(`wrote ${files.caCert}, ${files.caKey}, ${files.cert}, ${files.key} (keys mode 0600)\n`);
      },
    );
}
