import type { FastifyInstance } from 'fastify';
import { constants as http2Constants, type Http2SecureServer } from 'node:http2';
import type { Logger } from 'pino';
import type { ClusterStateSource } from '../cluster/source-options.js';
import type { AuditRecord } from './audit-record.js';
import type { Engine } from '../engine/engine.js';
import type { Policy } from '../policy/types.js';
import { admissionRoutes, describeEnvelopeError } from './admission-routes.js';
import { debugRoutes } from './debug-routes.js';
import { baseApp, DEFAULT_TIMEOUTS, type Timeouts } from './http.js';
import type { MetricsEndpoint } from './metrics.js';
import { metricsRoute } from './metrics-route.js';
import { probeRoutes } from './probe-routes.js';
import { TLS_SETTINGS, type KeyPair } from './tls.js';

export { type Timeouts } from './http.js';

export interface AppOptions {
  engine: Engine;
  cluster: ClusterStateSource;
  /** The audit trail and the server's own log. */
  logger: Logger;
  /** No TLS means plain HTTP: for in-process tests through `inject` only. */
  tls?: KeyPair;
  /** CA bundle that client certificates must chain to (`--client-ca`): only the API server may call. */
  clientCa?: Buffer;
  timeouts?: Partial<Timeouts>;
  /** Offer HTTP/2 (with HTTP/1.1 fallback) over TLS. */
  http2?: boolean;
  bodyLimitBytes?: number;
  /** Called after each decision is logged, before the response is sent (metrics hang here). */
  onDecision?: (record: AuditRecord) => void;
  onBadRequest?: (route: string, statusCode: number) => void;
  /** True once shutdown has begun: HTTP/1.1 connections are closed after each answer. */
  draining?: () => boolean;
}

/** 4 MiB: an UPDATE of a 1.5 MB object carries it twice, plus the envelope. */
export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

/**
 * Transport limits of the webhook listener. A connection that has not finished its TLS handshake costs about
 * 80 KB (8,000 half ClientHellos held 637 MB under Node's defaults: 120 s, no cap); the API servers keep a few
 * dozen connections each. HTTP/2: Node advertises 4,294,967,295 concurrent streams; Go's server, 250.
 */
export const TRANSPORT_LIMITS = {
  maxConnections: 1024,
  http2MaxConcurrentStreams: 100,
  /** Megabytes of nghttp2 buffers per HTTP/2 session (Node's maxSessionMemory) before new streams are refused. */
  http2MaxSessionMemoryMb: 8,
} as const;

/**
 * The webhook listener: POST /validate and POST /mutate over HTTPS, nothing else, so that `--client-ca` guards
 * exactly the API server's calls. Probes and metrics have their own plain-HTTP listeners (buildProbeApp,
 * buildMetricsApp), as controller-runtime managers do.
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const clientAuth = options.clientCa ? { ca: options.clientCa, requestCert: true, rejectUnauthorized: true } : {};
  const app = baseApp(timeouts, {
    bodyLimit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT,
    ...(options.tls
      ? {
          // HTTP/2 is offered through ALPN next to HTTP/1.1; the API server's webhook client picks.
          ...(options.http2 ? { http2: true, http2SessionTimeout: timeouts.keepAliveMs } : {}),
          https: {
            ...TLS_SETTINGS,
            ...options.tls,
            ...clientAuth,
            ...(options.http2 ? { allowHTTP1: true } : {}),
            // Passed through to the server: Node checks these timeouts every connectionsCheckingInterval
            // (requestTimeout here is for HTTP/1.1 on the HTTP/2 server; Fastify sets it on the HTTPS one).
            headersTimeout: timeouts.headersMs,
            requestTimeout: timeouts.requestMs,
            connectionsCheckingInterval: Math.min(1000, timeouts.headersMs),
            // A TLS handshake gets as long as the headers after it (Node's default: 120 s).
            handshakeTimeout: timeouts.headersMs,
            ...(options.http2
              ? {
                  settings: { maxConcurrentStreams: TRANSPORT_LIMITS.http2MaxConcurrentStreams },
                  maxSessionMemory: TRANSPORT_LIMITS.http2MaxSessionMemoryMb,
                }
              : {}),
          },
        }
      : {}),
    ajv: { customOptions: { allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: false } },
    schemaErrorFormatter: (errors, dataVar) => new Error(describeEnvelopeError(errors, dataVar)),
  });
  if (options.tls) {
    // Past the cap Node closes new connections at once: a client sees a reset, the API server its failurePolicy.
    app.server.maxConnections = TRANSPORT_LIMITS.maxConnections;
    if (options.http2) cutSlowStreams(app.server as unknown as Http2SecureServer, timeouts.requestMs);
  }
  const { engine, cluster, logger, onDecision, onBadRequest, draining } = options;
  app.register(admissionRoutes, {
    engine,
    snapshot: () => cluster.snapshot(),
    logger,
    onDecision,
    onBadRequest,
    draining,
  });
  return app;
}

/**
 * HTTP/2 has no requestTimeout: a stream still open after `ms` (a body that dribbles in) is reset with CANCEL,
 * as HTTP/1.1 answers 408 and closes the connection. A review is decided in milliseconds once it has arrived.
 */
function cutSlowStreams(server: Http2SecureServer, ms: number): void {
  server.on('stream', (stream) => {
    const timer = setTimeout(() => {
      if (!stream.closed) stream.close(http2Constants.NGHTTP2_CANCEL);
    }, ms);
    timer.unref();
    stream.once('close', () => clearTimeout(timer));
  });
}

export interface ProbeAppOptions {
  cluster: ClusterStateSource;
  /** For GET /debug/nodes: node states are shown as the rules see them under this policy. */
  policy: Policy;
  /**
   * GET /debug/nodes (`--debug-endpoints`): off unless asked for. It lists every node, pool and the reason each
   * lacks SCTP to anyone who reaches the port, and its cost follows the node count.
   */
  debug?: boolean;
  draining?: () => boolean;
  timeouts?: Partial<Timeouts>;
}

/** `--health-probe-bind-address`: plain HTTP GET /healthz, /readyz (and /debug/nodes when asked for); nothing here decides. */
export function buildProbeApp(options: ProbeAppOptions): FastifyInstance {
  const app = baseApp({ ...DEFAULT_TIMEOUTS, ...options.timeouts });
  app.register(probeRoutes, { readiness: () => options.cluster.readiness(), draining: options.draining });
  if (options.debug) app.register(debugRoutes, { cluster: options.cluster, policy: options.policy });
  return app;
}

/** `--metrics-bind-address`: plain HTTP GET /metrics for Prometheus. */
export function buildMetricsApp(options: { metrics: MetricsEndpoint; timeouts?: Partial<Timeouts> }): FastifyInstance {
  const app = baseApp({ ...DEFAULT_TIMEOUTS, ...options.timeouts });
  app.register(metricsRoute, { metrics: options.metrics });
  return app;
}
