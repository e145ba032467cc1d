import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type forge from 'node-forge';
import type { Command } from 'commander';
import { DEFAULT_WEBHOOK_NAMESPACE } from '../policy/presets.js';
import { positiveInt } from './options.js';

export const DEFAULT_CERT_DIR = 'certs';
export const DEFAULT_SERVICE_NAME = 'sctp-guard';

export interface DevCertOptions {
  dir: string;
  namespace?: string;
  service?: string;
  /** Extra DNS names or IPs for the serving certificate. */
  hosts?: string[];
  days?: number;
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
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const key = pki().privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { privateKey: key, publicKey: pki().rsa.setPublicKey(key.n, key.e) };
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
  return [...new Set(['localhost', '127.0.0.1', '::1', service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`, ...extra])];
}

/** A development CA and a serving certificate signed by it; private keys are written 0600. */
export function writeDevCerts(options: DevCertOptions): DevCertFiles {
  const days = options.days ?? 365;
  const names = servingNames(options.namespace ?? DEFAULT_WEBHOOK_NAMESPACE, options.service ?? DEFAULT_SERVICE_NAME, options.hosts);
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
    { name: 'subjectAltName', altNames: names.map((n) => (/^[\d.]+$|:/.test(n) ? { type: 7, ip: n } : { type: 2, value: n })) },
  ]);
  cert.sign(ca.privateKey, loadForge().md.sha256.create());

  mkdirSync(options.dir, { recursive: true });
  const files: DevCertFiles = {
    caCert: join(options.dir, 'ca.crt'),
    caKey: join(options.dir, 'ca.key'),
    cert: join(options.dir, 'tls.crt'),
    key: join(options.dir, 'tls.key'),
  };
  writeFileSync(files.caCert, pki().certificateToPem(caCert));
  writeFileSync(files.cert, pki().certificateToPem(cert));
  for (const [file, key] of [[files.caKey, ca.privateKey], [files.key, leaf.privateKey]] as const) {
    writeFileSync(file, pki().privateKeyToPem(key), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return files;
}

/** `npm start` on a fresh clone: make dev certs only when the pair is missing, never overwrite. */
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
    .option('--days <n>', 'validity in days (1 or more)', positiveInt, 365)
    .option('--force', 'replace an existing CA (every certificate it signed stops being trusted)', false)
    .action((opts: { dir: string; namespace: string; service: string; host: string[]; days: number; force: boolean }) => {
      const ca = join(opts.dir, 'ca.crt');
      if (existsSync(ca) && !opts.force) {
        throw new Error(`${ca} exists: a new CA would invalidate every caBundle and certificate made from it; pass --force to replace it, or --dir for another folder`);
      }
      const files = writeDevCerts({ dir: opts.dir, namespace: opts.namespace, service: opts.service, hosts: opts.host, days: opts.days });
      process.stdout.write(`wrote ${files.caCert}, ${files.caKey}, ${files.cert}, ${files.key} (keys mode 0600)\n`);
    });
}
