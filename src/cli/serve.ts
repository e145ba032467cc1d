import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { createClusterSource } from '../cluster/source.js';
import { Engine } from '../engine/engine.js';
import { loadPolicy } from '../policy/load.js';
import { DEFAULT_WEBHOOK_NAMESPACE } from '../policy/presets.js';
import { ALL_RULES } from '../rules/index.js';
import { buildApp, DEFAULT_BODY_LIMIT } from '../server/app.js';
import { createLogger } from '../server/logger.js';
import { readKeyPair } from '../server/tls.js';
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
}

export const DEFAULT_TLS_CERT = 'certs/tls.crt';
export const DEFAULT_TLS_KEY = 'certs/tls.key';

export function registerServeCommand(program: Command): void {
  program
    .command('serve', { isDefault: true })
    .description('run the admission webhook over HTTPS (POST /validate, POST /mutate, GET /healthz, GET /readyz)')
    .option('--port <port>', 'HTTPS port', positiveInt, 8443)
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
    .action(async (opts: ServeOptions) => {
      await serve(opts);
    });
}

export async function serve(opts: ServeOptions): Promise<void> {
  const logger = createLogger(opts.logLevel);
  const policy = loadPolicy(opts.config, { webhookNamespace: opts.namespace });
  // Only the default pair is generated: a missing file the user named is an error, not something to paper over.
  if (opts.tlsCert === DEFAULT_TLS_CERT && opts.tlsKey === DEFAULT_TLS_KEY) {
    const made = ensureDevCerts(opts.tlsCert, opts.tlsKey, dirname(opts.tlsCert));
    if (made) logger.info({ files: made }, 'no serving certificate found: wrote self-signed development certificates');
  }
  const tls = readKeyPair(opts.tlsCert, opts.tlsKey);
  const engine = new Engine(ALL_RULES, policy);
  const cluster = createClusterSource({ clusterState: opts.clusterState, kubeconfig: opts.kubeconfig, logger });
  await cluster.start();
  const clientCa = opts.clientCa ? readFileSync(opts.clientCa) : undefined;
  const app = buildApp({ engine, cluster, logger, tls, clientCa, http2: opts.http2, bodyLimitBytes: opts.maxBodyBytes });
  await app.listen({ port: opts.port, host: opts.host });
  logger.info({ port: opts.port, host: opts.host, preset: policy.preset, rules: engine.rules.map((r) => r.id) }, 'sctp-guard listening');
  const stop = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await app.close();
    await cluster.stop();
    logger.flush();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
