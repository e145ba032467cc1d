import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { createClusterSource } from '../cluster/source.js';
import { Engine } from '../engine/engine.js';
import { ALL_RULES } from '../rules/index.js';
import { clusterDataOf } from '../engine/cluster-data.js';
import type { FastifyInstance } from 'fastify';
import { buildApp, buildMetricsApp, buildProbeApp, DEFAULT_BODY_LIMIT } from '../server/app.js';
import { createLogger, LOG_LEVELS } from '../server/logger.js';
import { CertificateReloader, type SecureContextTarget } from '../server/cert-reload.js';
import { ServerMetrics } from '../server/metrics.js';
import { GracefulShutdown } from '../server/shutdown.js';
import { TLS_SETTINGS } from '../server/tls.js';
import { ensureDevCerts } from './certs.js';
import { CONTEXT_HELP, KUBECONFIG_HELP } from './kube.js';
import { commandPolicy, ownNamespace, positiveInt } from './options.js';
import { rulesForWebhook } from '../admission/webhook-config.js';
import { warmValidators } from '../ignition/validate.js';
import { SPEC_VERSIONS } from '../ignition/versions.js';
import { loadSctpConfig } from '../cluster/remediation.js';
import type { ClusterSnapshot } from '../cluster/snapshot.js';
import { engineRequest } from '../engine/request.js';
import type { Decision } from '../engine/types.js';

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
  context?: string;
  clientCa?: string;
  http2: boolean;
  debugEndpoints: boolean;
  /** Undefined: the listener is off (`0`). */
  healthProbeBindAddress?: BindAddress;
  metricsBindAddress?: BindAddress;
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
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError(`expected a port 0-65535 (0: any free port), got "${value}"`);
  return n;
}

export interface BindAddress {
  host: string;
  port: number;
}

/**
 * controller-runtime's bind address syntax: `:8081` (every IPv4 address), `127.0.0.1:8081`, `[::1]:8081`, `host:0`
 * (any free port); a bare `0` turns the listener off.
 */
export function bindAddress(value: string): BindAddress | undefined {
  if (value === '0') return undefined;
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  const p = m ? Number(m[3]) : NaN;
  if (!m || p > 65535)
    throw new InvalidArgumentError(
      `expected [host]:port (e.g. :8081, 127.0.0.1:8081, [::1]:8081) or 0 to turn it off, got "${value}"`,
    );
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port: p };
}

/** Parsed as given, shown in --help as written (`:8081`). */
function bindAddressOption(flags: string, description: string, value: string): Option {
  return new Option(flags, description).argParser(bindAddress).default(bindAddress(value), value);
}

export const DEFAULT_HEALTH_PROBE_BIND_ADDRESS = ':8081';
export const DEFAULT_METRICS_BIND_ADDRESS = ':8080';

export const DEFAULT_TLS_CERT = 'certs/tls.crt';
export const DEFAULT_TLS_KEY = 'certs/tls.key';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'run the admission webhook over HTTPS (POST /validate, POST /mutate); probes and metrics on their own plain-HTTP ports',
    )
    .option('--port <port>', 'webhook HTTPS port (0: any free port)', port, 8443)
    .option('--host <addr>', 'address the webhook listens on', '0.0.0.0')
    .addOption(
      bindAddressOption(
        '--health-probe-bind-address <addr>',
        'plain HTTP GET /healthz, /readyz ([host]:port; 0: off)',
        DEFAULT_HEALTH_PROBE_BIND_ADDRESS,
      ),
    )
    .addOption(
      bindAddressOption(
        '--metrics-bind-address <addr>',
        'plain HTTP GET /metrics ([host]:port; 0: off)',
        DEFAULT_METRICS_BIND_ADDRESS,
      ),
    )
    .option('--tls-cert <file>', 'serving certificate (PEM)', DEFAULT_TLS_CERT)
    .option('--tls-key <file>', 'serving private key (PEM)', DEFAULT_TLS_KEY)
    .option('--config <file>', 'policy file (YAML); defaults apply without one')
    .addOption(
      new Option('--log-level <level>', 'log level (silent turns the audit trail off)')
        .choices([...LOG_LEVELS])
        .default('info'),
    )
    .option(
      '--namespace <ns>',
      'namespace the webhook runs in, always excluded from checks ($POD_NAMESPACE, else sctp-guard)',
      ownNamespace(),
    )
    .option('--max-body-bytes <n>', 'largest AdmissionReview accepted (413 above)', positiveInt, DEFAULT_BODY_LIMIT)
    .option('--http2', 'offer HTTP/2 next to HTTP/1.1 (ALPN)', false)
    .option(
      '--debug-endpoints',
      "also serve GET /debug/nodes on the probe port (every node's SCTP state and why)",
      false,
    )
    .option('--client-ca <file>', "require client certificates signed by this CA (the API server's)")
    .option('--cluster-state <dir>', 'offline cluster state: YAML files of Nodes, MachineConfigs, MachineConfigPools')
    .option('--kubeconfig <file>', KUBECONFIG_HELP)
    .option('--context <name>', CONTEXT_HELP)
    .option(
      '--shutdown-delay <seconds>',
      'on SIGTERM, answer unready but keep serving this long before closing',
      seconds,
      5,
    )
    .option(
      '--shutdown-timeout <seconds>',
      'exit after this long from SIGTERM even with requests open (< terminationGracePeriodSeconds)',
      seconds,
      25,
    )
    .action(async (opts: ServeOptions) => {
      await serve(opts);
    });
}

/** The flag that sets each listener's address, for the message that says which one to change. */
const LISTEN_FLAG = {
  webhook: '--port',
  probes: '--health-probe-bind-address',
  metrics: '--metrics-bind-address',
} as const;

function listenError(name: keyof typeof LISTEN_FLAG, at: BindAddress, err: NodeJS.ErrnoException): string {
  const where = `${at.host.includes(':') ? `[${at.host}]` : at.host}:${at.port}`;
  const flag = LISTEN_FLAG[name];
  const other =
    name === 'webhook' ? `${flag} (0: any free port) or --host` : `${flag} (host:port, or 0 to turn it off)`;
  if (err.code === 'EADDRINUSE')
    return `cannot listen on ${where} for the ${name}: the address is in use (another sctp-guard or program?); choose another with ${other}`;
  if (err.code === 'EACCES')
    return `cannot listen on ${where} for the ${name}: permission denied (ports below 1024 need privileges); choose another with ${other}`;
  if (err.code === 'EADDRNOTAVAIL')
    return `cannot listen on ${where} for the ${name}: no such address on this host; choose another with ${other}`;
  return `cannot listen on ${where} for the ${name} (${flag}): ${err.message}`;
}

/** The serving pair, or one line that names both flags when the key is not the certificate's. */
function servingCertificate<T>(opts: Pick<ServeOptions, 'tlsCert' | 'tlsKey'>, open: () => T): T {
  try {
    return open();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH') {
      throw new Error(
        `--tls-key ${opts.tlsKey} is not the private key of the certificate in --tls-cert ${opts.tlsCert} (OpenSSL: key values mismatch); pass the key the certificate was issued for`,
      );
    }
    throw err;
  }
}

/**
 * V8 compiles a function the first time it runs: the first MachineConfig of an Ignition version would pay for its
 * validators, the translation and the patch (10 to 70 ms on top of a 1 ms review). Once the cluster state is ready,
 * every version's validator runs once, and the documented load-sctp-module MachineConfig in each version goes
 * through the mutating rules, the only ones that read MachineConfigs, against that state (nothing logged, counted
 * or answered). Not before the state is loaded: the garbage collections of a large load flush the bytecode of
 * functions that have not run since (the first MachineConfig at 10,000 nodes took 10 ms in the handler, 3 ms at
 * 10). Returns those decisions.
 */
export function warmUp(engine: Engine, snapshot: ClusterSnapshot): Decision[] {
  warmValidators();
  return SPEC_VERSIONS.map((version) => {
    const object = {
      apiVersion: 'machineconfiguration.openshift.io/v1',
      kind: 'MachineConfig',
      metadata: { name: 'sctp-guard-warm-up', labels: { 'machineconfiguration.openshift.io/role': 'worker' } },
      spec: { config: loadSctpConfig(version) },
    };
    return engine.evaluate(engineRequest({ object }), snapshot, 'mutate');
  });
}

export async function serve(opts: ServeOptions): Promise<void> {
  const logger = createLogger(opts.logLevel);
  const policy = commandPolicy(opts.config, opts.namespace);
  const engine = new Engine(rulesForWebhook(ALL_RULES, policy), policy);
  // The kubeconfig is read first: a bad one fails before anything is written (the development certificates).
  const cluster = await createClusterSource({
    clusterState: opts.clusterState,
    kubeconfig: opts.kubeconfig,
    ...(opts.context ? { context: opts.context } : {}),
    logger,
    stalenessLimitSeconds: policy.stalenessLimitSeconds,
    kinds: clusterDataOf(ALL_RULES),
    onReady: (snapshot) => warmUp(engine, snapshot),
  });
  // Only the default pair is generated: a missing file the user named is an error, not something to paper over.
  if (opts.tlsCert === DEFAULT_TLS_CERT && opts.tlsKey === DEFAULT_TLS_KEY) {
    const made = ensureDevCerts(opts.tlsCert, opts.tlsKey, dirname(opts.tlsCert));
    if (made) logger.info({ files: made }, 'no serving certificate found: wrote self-signed development certificates');
  }
  const clientCa = opts.clientCa ? readFileSync(opts.clientCa) : undefined;
  const metrics: ServerMetrics = new ServerMetrics({
    informers: () => cluster.status(),
    snapshot: () => cluster.snapshot(),
    certificate: () => certs.certificate,
    processMetrics: true,
  });
  const certs: CertificateReloader = servingCertificate(
    opts,
    () =>
      new CertificateReloader({
        certFile: opts.tlsCert,
        keyFile: opts.tlsKey,
        logger,
        contextOptions: { ...TLS_SETTINGS, ...(clientCa ? { ca: clientCa } : {}) },
        onResult: metrics.observeCertificateReload,
      }),
  );
  await cluster.start();
  const servers: Array<{ name: 'webhook' | 'probes' | 'metrics'; app: FastifyInstance; at: BindAddress }> = [];
  // Webhook first: it waits for the reviews in flight; the probes answer (unready) until the end.
  const closeAll = async () => {
    for (const s of servers) await s.app.close();
  };
  const shutdown = new GracefulShutdown({
    server: { close: closeAll },
    logger,
    drainDelayMs: opts.shutdownDelay * 1000,
    timeoutMs: opts.shutdownTimeout * 1000,
    cleanup: [() => cluster.stop(), () => certs.close()],
  });
  const draining = shutdown.draining;
  servers.push({
    name: 'webhook',
    at: { host: opts.host, port: opts.port },
    app: buildApp({
      engine,
      cluster,
      logger,
      tls: certs.pair,
      clientCa,
      http2: opts.http2,
      bodyLimitBytes: opts.maxBodyBytes,
      onDecision: metrics.observeDecision,
      onBadRequest: metrics.observeBadRequest,
      draining,
    }),
  });
  if (opts.healthProbeBindAddress)
    servers.push({
      name: 'probes',
      at: opts.healthProbeBindAddress,
      app: buildProbeApp({ cluster, policy, draining, debug: opts.debugEndpoints }),
    });
  if (opts.metricsBindAddress)
    servers.push({ name: 'metrics', at: opts.metricsBindAddress, app: buildMetricsApp({ metrics }) });
  const ports: Record<string, number> = {};
  for (const s of servers) {
    try {
      await s.app.listen(s.at);
      ports[s.name] = (s.app.server.address() as AddressInfo).port;
    } catch (err) {
      // A taken port is a start-up error: nothing may stay listening behind it.
      await closeAll().catch(() => {});
      await cluster.stop();
      certs.close();
      throw new Error(listenError(s.name, s.at, err as NodeJS.ErrnoException));
    }
  }
  // From here on the process serves: an error nothing handles ends it with exit 2 and one log line, never a
  // server left running after its start-up failed.
  const fatal = (err: unknown) => {
    logger.fatal(
      { err: err instanceof Error ? err.message : String(err) },
      `fatal: ${err instanceof Error ? err.message : String(err)}; exiting`,
    );
    logger.flush();
    process.exit(EXIT_FATAL);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  try {
    // buildApp's instance type is the plain HTTP one; with tls it is a node:https or node:http2 secure server.
    certs.start(servers[0]!.app.server as unknown as SecureContextTarget);
    shutdown.listen();
    logger.info(
      {
        port: ports.webhook,
        host: opts.host,
        ...(ports.probes !== undefined ? { probePort: ports.probes } : {}),
        ...(ports.metrics !== undefined ? { metricsPort: ports.metrics } : {}),
        preset: policy.preset,
        rules: engine.rules.map((r) => r.id),
        certificate: { serial: certs.certificate.serial, notAfter: certs.certificate.notAfter.toISOString() },
      },
      'sctp-guard listening',
    );
  } catch (err) {
    fatal(err);
  }
}

/** main's exit code for bad input and start-up errors (EXIT_BAD_INPUT): `serve` uses it for fatal errors too. */
const EXIT_FATAL = 2;
