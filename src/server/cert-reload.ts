import { createHash, X509Certificate } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import { readKeyPair, TLS_SETTINGS, type KeyPair } from './tls.js';

/** What is known about the serving certificate in use: for logs, metrics and tests. */
export interface ServingCertificate {
  serial: string;
  subject: string;
  notAfter: Date;
}

/** The leaf (first) certificate of a PEM chain. */
export function describeCertificate(certPem: Buffer): ServingCertificate {
  const x509 = new X509Certificate(certPem);
  const notAfter = new Date(x509.validTo);
  // OpenSSL prints "Bad time value" for a notAfter past 9999-12-31 (RFC 5280's last date): such a pair is unusable.
  if (Number.isNaN(notAfter.getTime()))
    throw new Error(
      `the certificate's notAfter cannot be read (OpenSSL: "${x509.validTo}"); X.509 dates end at 9999-12-31: make it with fewer --days`,
    );
  return { serial: x509.serialNumber, subject: x509.subject, notAfter };
}

/** A TLS server whose secure context can be swapped: node:https and node:http2 secure servers both are. */
export interface SecureContextTarget {
  setSecureContext(options: SecureContextOptions): void;
}

export type ReloadResult = 'unchanged' | 'reloaded' | 'rejected';

export interface CertificateReloaderOptions {
  certFile: string;
  keyFile: string;
  logger: Logger;
  /** Everything of the secure context but the pair (TLS settings, the client CA): kept across reloads. */
  contextOptions?: SecureContextOptions;
  /** Events come in bursts (a Secret volume swaps a symlink; a cp writes twice): wait for quiet. */
  debounceMs?: number;
  /** Files are also re-read on this interval: fs.watch misses events on some volume types. 0 turns it off. */
  pollIntervalMs?: number;
  onResult?: (result: Exclude<ReloadResult, 'unchanged'>) => void;
}

/**
 * The serving certificate source (cert-manager's pattern): watches --tls-cert and --tls-key, and when they change
 * puts the new pair into the running server for new connections, after proving the pair is usable. Connections
 * already open keep their session, so no request in flight is dropped. A pair that does not load (half-written,
 * mismatched, expired) is refused with a log line, and the pair in use stays.
 */
export class CertificateReloader {
  private current: KeyPair;
  private info: ServingCertificate;
  private readonly contextOptions: SecureContextOptions;
  private target?: SecureContextTarget;
  private watchers: FSWatcher[] = [];
  private timer?: NodeJS.Timeout;
  private poller?: NodeJS.Timeout;
  /** Digest of the last refused pair: a broken pair is reported once, not on every poll. */
  private lastRefused?: string;
  private running: Promise<ReloadResult> = Promise.resolve('unchanged');

  constructor(private readonly options: CertificateReloaderOptions) {
    this.contextOptions = options.contextOptions ?? TLS_SETTINGS;
    // At start-up a broken pair is fatal (there is no old pair to keep): readKeyPair throws with the reason.
    this.current = readKeyPair(options.certFile, options.keyFile);
    this.info = describeCertificate(this.current.cert);
  }

  /** The pair to create the server with. */
  get pair(): KeyPair {
    return this.current;
  }

  get certificate(): ServingCertificate {
    return this.info;
  }

  /** Starts watching; reloads go to `target`. */
  start(target: SecureContextTarget): void {
    this.target = target;
    const dirs = new Set([dirname(this.options.certFile), dirname(this.options.keyFile)]);
    for (const dir of dirs) {
      const watcher = watch(dir, { persistent: false }, () => this.schedule());
      watcher.on('error', (err) =>
        this.options.logger.warn({ dir, err: err.message }, 'certificate directory watch failed; polling continues'),
      );
      this.watchers.push(watcher);
    }
    const every = this.options.pollIntervalMs ?? 60_000;
    if (every > 0) {
      this.poller = setInterval(() => this.schedule(0), every);
      this.poller.unref();
    }
  }

  close(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
    clearTimeout(this.timer);
    clearInterval(this.poller);
  }

  private schedule(delay = this.options.debounceMs ?? 250): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.reload(), delay);
    this.timer.unref();
  }

  /** Re-reads both files and swaps the secure context when they hold a new, usable pair. Serialized. */
  reload(): Promise<ReloadResult> {
    this.running = this.running.then(() => this.reloadOnce());
    return this.running;
  }

  private async reloadOnce(): Promise<ReloadResult> {
    const { certFile, keyFile, logger } = this.options;
    const keeping = { serial: this.info.serial, notAfter: this.info.notAfter.toISOString() };
    let next: KeyPair;
    try {
      next = { cert: await readFile(certFile), key: await readFile(keyFile) };
    } catch (err) {
      return this.refuse(`cannot read the files: ${(err as Error).message}`, undefined, keeping);
    }
    if (next.cert.equals(this.current.cert) && next.key.equals(this.current.key)) return 'unchanged';
    const digest = createHash('sha256').update(next.cert).update('\0').update(next.key).digest('hex');
    let info: ServingCertificate;
    try {
      info = describeCertificate(next.cert);
      // Proves the key matches the certificate and both parse, exactly as the server will use them.
      createSecureContext({ ...this.contextOptions, ...next });
    } catch (err) {
      return this.refuse((err as Error).message, digest, keeping);
    }
    if (info.notAfter.getTime() <= Date.now()) {
      return this.refuse(
        `the new certificate (serial ${info.serial}) expired at ${info.notAfter.toISOString()}`,
        digest,
        keeping,
      );
    }
    this.target?.setSecureContext({ ...this.contextOptions, ...next });
    this.current = next;
    this.info = info;
    this.lastRefused = undefined;
    logger.info(
      { certFile, serial: info.serial, notAfter: info.notAfter.toISOString(), previous: keeping },
      'serving certificate reloaded: new connections use it',
    );
    this.options.onResult?.('reloaded');
    return 'reloaded';
  }

  private refuse(
    reason: string,
    digest: string | undefined,
    keeping: { serial: string; notAfter: string },
  ): ReloadResult {
    if (digest === undefined || digest !== this.lastRefused) {
      const { certFile, keyFile } = this.options;
      this.options.logger.error(
        { certFile, keyFile, reason, keeping },
        `refused the new serving certificate pair (${reason}); the current pair stays in use`,
      );
      this.options.onResult?.('rejected');
    }
    if (digest !== undefined) this.lastRefused = digest;
    return 'rejected';
  }
}
