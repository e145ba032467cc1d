import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import {
  admissionReviewResponseSchema,
  admissionReviewSchema,
  SUPPORTED_API_VERSIONS,
  type AdmissionReview,
} from '../admission/envelope.js';
import { review } from '../admission/review.js';
import type { ClusterStateSource } from '../cluster/source-options.js';
import { auditRecord, type AuditRecord } from '../engine/audit-record.js';
import type { Engine, Phase } from '../engine/engine.js';
import type { MetricsEndpoint } from './metrics.js';
import { registerDebugRoutes } from './debug-routes.js';
import { TLS_SETTINGS, type KeyPair } from './tls.js';

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
  /** Served as GET /metrics (Prometheus text format). */
  metrics?: MetricsEndpoint;
  /** True once shutdown has begun: /readyz answers 503 and HTTP/1.1 connections are closed after each answer. */
  draining?: () => boolean;
}

/**
 * Slow-client guards. The API server sends a whole review at once and gives up after at most 30 s, so a client
 * that dribbles headers or a body is not the API server: cut it before it ties up a socket.
 */
export interface Timeouts {
  headersMs: number;
  requestMs: number;
  keepAliveMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 65_000 };

/** 4 MiB: an UPDATE of a 1.5 MB object carries it twice, plus the envelope. */
export const DEFAULT_BODY_LIMIT = 4 * 1024 * 1024;

export interface ErrorBody {
  statusCode: number;
  error: string;
  reason: string;
}

export function buildApp(options: AppOptions): FastifyInstance {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const clientAuth = options.clientCa ? { ca: options.clientCa, requestCert: true, rejectUnauthorized: true } : {};
  const fastifyOptions: FastifyServerOptions & Record<string, unknown> = {
    // Fastify's own request logs would double the audit trail; bad requests are logged by the error handler.
    logger: false,
    bodyLimit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT,
    return503OnClosing: true,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    ...(options.tls
      ? {
          // HTTP/2 is offered through ALPN next to HTTP/1.1; the API server's webhook client picks.
          ...(options.http2 ? { http2: true, http2SessionTimeout: timeouts.keepAliveMs } : {}),
          https: {
            ...TLS_SETTINGS,
            ...options.tls,
            ...clientAuth,
            ...(options.http2 ? { allowHTTP1: true } : {}),
            // Passed through to the server: Node checks these timeouts every connectionsCheckingInterval.
            headersTimeout: timeouts.headersMs,
            connectionsCheckingInterval: Math.min(1000, timeouts.headersMs),
          },
        }
      : {}),
    ajv: { customOptions: { allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: false } },
    schemaErrorFormatter: (errors, dataVar) => new Error(describeSchemaError(errors, dataVar)),
  };
  // The HTTP/2 server has other generic types but the same request/reply API: one instance type for both.
  const app = Fastify(fastifyOptions) as unknown as FastifyInstance;

  // An AdmissionReview is JSON only; Fastify's default text/plain parser would let other bodies reach the schema.
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const statusCode = err.statusCode === 413 ? 413 : err.statusCode && err.statusCode < 500 ? 400 : 500;
    const reason = badRequestReason(err);
    options.onBadRequest?.(request.routeOptions.url ?? request.url, statusCode);
    options.logger.warn({ route: request.url, statusCode, reason }, 'bad admission request');
    const body: ErrorBody = { statusCode, error: statusCode === 413 ? 'Payload Too Large' : statusCode === 400 ? 'Bad Request' : 'Internal Server Error', reason };
    return reply.code(statusCode).type('application/json').send(body);
  });

  // Routes as registered (here and by plugins): anything else is 404, a known path with another method 405.
  const routes: Array<{ method: string; path: string }> = [];
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method, path: r.url });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = routes.filter((r) => r.path === path).map((r) => r.method);
    const listing = routes.map((r) => `${r.method} ${r.path}`).join(', ');
    if (allowed.length > 0) {
      const body: ErrorBody = { statusCode: 405, error: 'Method Not Allowed', reason: `${request.method} ${path} is not allowed; use ${allowed.join(', ')}` };
      return reply.code(405).header('allow', allowed.join(', ')).send(body);
    }
    const body: ErrorBody = { statusCode: 404, error: 'Not Found', reason: `no route ${request.method} ${path}; routes: ${listing}` };
    return reply.code(404).send(body);
  });

  const admissionRoute = (phase: Phase) => ({
    schema: { body: admissionReviewSchema, response: { 200: admissionReviewResponseSchema } },
    handler: async (request: FastifyRequest<{ Body: AdmissionReview }>, reply: FastifyReply) => {
      const started = performance.now();
      const body = request.body;
      const snapshot = options.cluster.snapshot();
      const outcome = review(body, options.engine, snapshot, phase);
      const record = auditRecord({
        clusterStateAgeSeconds: snapshot.source === 'none' ? undefined : snapshot.ageSeconds,
        uid: body.request.uid,
        phase,
        request: outcome.request,
        decision: outcome.decision,
        user: body.request.userInfo?.username ?? '',
        name: body.request.name,
        latencyMs: performance.now() - started,
      });
      // Logged before the response leaves: a decision the API server acted on is always in the trail.
      options.logger.info(record, 'admission decision');
      options.onDecision?.(record);
      return reply.send(outcome.review);
    },
  });

  if (options.draining) {
    const draining = options.draining;
    // Kept-alive connections outlive the endpoint removal: closing them moves clients to the other replicas.
    // (HTTP/2 has no Connection header: its sessions get GOAWAY when the server closes.)
    app.addHook('onSend', async (request, reply) => {
      if (draining() && request.raw.httpVersionMajor === 1) reply.header('connection', 'close');
    });
  }
  if (options.metrics) {
    const metrics = options.metrics;
    app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()));
  }
  app.post('/validate', admissionRoute('validate'));
  app.post('/mutate', admissionRoute('mutate'));
  app.get('/healthz', async () => ({ status: 'ok' }));
  registerDebugRoutes(app, { cluster: options.cluster, policy: options.engine.policy });
  app.get('/readyz', async (_request, reply) => {
    if (options.draining?.()) return reply.code(503).send({ status: 'not ready', reason: 'shutting down' });
    const { ready, reason } = options.cluster.readiness();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', reason });
  });
  return app;
}

function badRequestReason(err: FastifyError): string {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return `unsupported content type: send the AdmissionReview as application/json`;
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'empty body: expected an AdmissionReview JSON object';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `body too large: ${err.message}`;
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return `malformed JSON: ${err.message}`;
    default:
      if (err.validation) return `invalid AdmissionReview: ${err.message}`;
      if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON|Unexpected|token/i.test(err.message))) return `malformed JSON: ${err.message}`;
      return err.message;
  }
}

interface SchemaError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Turns ajv's first error into a sentence that names the field, e.g. `request.uid is required`. */
function describeSchemaError(errors: SchemaError[], dataVar: string): string {
  const e = errors[0];
  if (!e) return 'invalid AdmissionReview';
  const path = e.instancePath.split('/').filter(Boolean).join('.');
  const field = path || (dataVar === 'body' ? 'the body' : dataVar);
  if (e.keyword === 'required') return `${path ? `${path}.` : ''}${String(e.params.missingProperty)} is required`;
  if (path === 'apiVersion' && e.keyword === 'enum') return `unknown apiVersion: expected one of ${SUPPORTED_API_VERSIONS.join(', ')}`;
  if (path === 'apiVersion' || e.keyword === 'type') return `${field} ${e.message ?? 'is invalid'}`;
  if (e.keyword === 'const') return `${field} must be ${JSON.stringify(e.params.allowedValue)}`;
  if (e.keyword === 'enum') return `${field} must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`;
  return `${field} ${e.message ?? 'is invalid'}`;
}
