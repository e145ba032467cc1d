import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import { InvalidArgumentError, type Command } from 'commander';
import { createClusterSource } from '../cluster/source.js';
import { Engine } from '../engine/engine.js';
import { compileAllValidators } from '../ignition/validate.js';
import { loadPolicy } from '../policy/load.js';
import { DEFAULT_WEBHOOK_NAMESPACE } from '../policy/presets.js';
import { ALL_RULES, RULE_IDS } from '../rules/index.js';
import { buildApp, DEFAULT_BODY_LIMIT } from '../server/app.js';
import { createLogger } from '../server/logger.js';
import { CertificateReloader, type SecureContextTarget } from '../server/cert-reload.js';
import { ServerMetrics } from '../server/metrics.js';
import { GracefulShutdown } from '../server/shutdown.js';
import { TLS_SETTINGS } from '../server/tls.js';
import { ensureDevCerts } from './certs.js';
import { positiveInt } from './options.js';

export interface ServeOptions {
  port: number;
  host: string;
  tlsCert: string;
  tlsKey: string;
  config?: string;
  logLevel: string;
  namespace: string;
  maxBodyBytes: number;
  clusterState?: string;
  kubeconfig?: string;
  clientCa?: string;
  http2: boolean;
  shutdownDelay: number;
  shutdownTimeout: number;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected seconds (0 or more), got "${value}"`);
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port 0-65535 (0: any free port), got "${value}"`);
  return n;
}

export const DEFAULT_TLS_CERT = 'certs/tls.crt';
export const DEFAULT_TLS_KEY = 'certs/tls.key';

export function registerServeCommand(program: Command): void {
  program
    .command('serve', { isDefault: true })
    .description('run the admission webhook over HTTPS (POST /validate, POST /mutate, GET /healthz, GET /readyz)')
    .option('--port <port>', 'HTTPS port (0: any free port)', port, 8443)
    .option('--host <addr>', 'address to listen on', '0.0.0.0')
    .option('--tls-cert <file>', 'serving certificate (PEM)', DEFAULT_TLS_CERT)
    .option('--tls-key <file>', 'serving private key (PEM)', DEFAULT_TLS_KEY)
    .option('--config <file>', 'policy file (YAML); defaults apply without one')
    .option('--log-level <level>', 'fatal | error | warn | info | debug | trace | silent', 'info')
    .option('--namespace <ns>', 'namespace the webhook runs in (excluded from checks)', process.env.POD_NAMESPACE ?? DEFAULT_WEBHOOK_NAMESPACE)
    .option('--max-body-bytes <n>', 'largest AdmissionReview accepted (413 above)', positiveInt, DEFAULT_BODY_LIMIT)
    .option('--http2', 'offer HTTP/2 next to HTTP/1.1 (ALPN)', false)
    .option('--client-ca <file>', 'require client certificates signed by this CA (the API server\'s)')
    .option('--cluster-state <dir>', 'offline cluster state: YAML files of Nodes, MachineConfigs, MachineConfigPools')
    .option('--kubeconfig <file>', 'kubeconfig for live cluster state (default: in-cluster or $KUBECONFIG)')
    .option('--shutdown-delay <seconds>', 'on SIGTERM, answer unready but keep serving this long before closing', seconds, 5)
    .option('--shutdown-timeout <seconds>', 'exit after this long from SIGTERM even with requests open (< terminationGracePeriodSeconds)', seconds, 25)
    .action(async (opts: ServeOptions) => {
      await serve(opts);
    });
}

export async function serve(opts: ServeOptions): Promise<void> {
  const logger = createLogger(opts.logLevel);
  const policy = loadPolicy(opts.config, { ruleIds: RULE_IDS, webhookNamespace: opts.namespace });
  // Only the default pair is generated: a missing file the user named is an error, not something to paper over.
  if (opts.tlsCert === DEFAULT_TLS_CERT && opts.tlsKey === DEFAULT_TLS_KEY) {
    const made = ensureDevCerts(opts.tlsCert, opts.tlsKey, dirname(opts.tlsCert));
    if (made) logger.info({ files: made }, 'no serving certificate found: wrote self-signed development certificates');
  }
  const clientCa = opts.clientCa ? readFileSync(opts.clientCa) : undefined;
  const metrics: ServerMetrics = new ServerMetrics({ informers: () => cluster.status(), snapshot: () => cluster.snapshot(), certificate: () => certs.certificate, processMetrics: true });
  const certs: CertificateReloader = new CertificateReloader({
    certFile: opts.tlsCert,
    keyFile: opts.tlsKey,
    logger,
    contextOptions: { ...TLS_SETTINGS, ...(clientCa ? { ca: clientCa } : {}) },
    onResult: metrics.observeCertificateReload,
  });
  const engine = new Engine(ALL_RULES, policy);
  compileAllValidators();
  const cluster = await createClusterSource({ clusterState: opts.clusterState, kubeconfig: opts.kubeconfig, logger, stalenessLimitSeconds: policy.stalenessLimitSeconds });
  await cluster.start();
  const shutdown = new GracefulShutdown({
    server: { close: () => app.close() },
    logger,
    drainDelayMs: opts.shutdownDelay * 1000,
    timeoutMs: opts.shutdownTimeout * 1000,
    cleanup: [() => cluster.stop(), () => certs.close()],
  });
  const app = buildApp({
    engine,
    cluster,
    logger,
    tls: certs.pair,
    clientCa,
    http2: opts.http2,
    bodyLimitBytes: opts.maxBodyBytes,
    metrics,
    onDecision: metrics.observeDecision,
    onBadRequest: metrics.observeBadRequest,
    draining: shutdown.draining,
  });
  await app.listen({ port: opts.port, host: opts.host });
  // buildApp's instance type is the plain HTTP one; with tls it is a node:https or node:http2 secure server.
  certs.start(app.server as unknown as SecureContextTarget);
  shutdown.listen();
  const { port: listening } = app.server.address() as AddressInfo;
  logger.info(
    { port: listening, host: opts.host, preset: policy.preset, rules: engine.rules.map((r) => r.id), certificate: { serial: certs.certificate.serial, notAfter: certs.certificate.notAfter.toISOString() } },
    'sctp-guard listening',
  );
}
