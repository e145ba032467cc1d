import type { FastifyError, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import {
  admissionReviewResponseSchema,
  admissionReviewSchema,
  SUPPORTED_API_VERSIONS,
  type AdmissionReview,
} from '../admission/envelope.js';
import { review } from '../admission/review.js';
import type { ClusterSnapshot } from '../cluster/snapshot.js';
import { auditRecord, type AuditRecord } from './audit-record.js';
import type { Engine, Phase } from '../engine/engine.js';
import type { ErrorBody } from './http.js';
import { infoLineWriter } from './logger.js';
import { countJsonContainers } from '../util/json.js';
import { pointerTokens } from '../util/json-pointer.js';
import { describeSchemaError, type SchemaError } from '../util/schema-errors.js';

/** Fastify's content-type parser callback (its own type is not exported). */
type ContentTypeParserDone = (err: Error | null, body?: unknown) => void;

/**
 * Objects and arrays one AdmissionReview may hold: a 1.5 MB rendered MachineConfig, twice in an UPDATE, has a
 * few thousand; 4 MiB of `[{},{},…]` has 1.4 million.
 */
export const MAX_JSON_CONTAINERS = 100_000;

export interface AdmissionRoutesOptions {
  engine: Engine;
  snapshot: () => ClusterSnapshot;
  /** The audit trail and the server's own log. */
  logger: Logger;
  /** Called after each decision is logged, before the response is sent (metrics hang here). */
  onDecision?: (record: AuditRecord) => void;
  onBadRequest?: (route: string, statusCode: number) => void;
  /** True once shutdown has begun: HTTP/1.1 connections are closed after each answer. */
  draining?: () => boolean;
}

/**
 * POST /validate and POST /mutate: decode the AdmissionReview (the route's body schema), call the engine, log the
 * decision, encode the answer. Anything refused before a rule runs is a 400/413 with a reason.
 */
export const admissionRoutes: FastifyPluginCallback<AdmissionRoutesOptions> = (app, options, done) => {
  // An AdmissionReview is JSON only; Fastify's default text/plain parser would let other bodies reach the schema.
  app.removeContentTypeParser('text/plain');
  // JSON as data: JSON.parse keeps `__proto__` and `constructor` keys as own properties, touching no prototype, so
  // every valid body gets a verdict (Fastify's parser answered a valid MachineConfig with such a key 400
  // "malformed JSON"). The body limit bounds the bytes, MAX_JSON_CONTAINERS what they may expand to.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseReviewBody);

  // Kept-alive connections outlive the endpoint removal: closing them moves clients to the other replicas.
  // (HTTP/2 has no Connection header: its sessions get GOAWAY when the server closes.) Set where each answer is
  // made, not in an onSend hook: a hook costs every request Fastify's hook runner.
  const draining = options.draining;
  const closeWhenDraining = (request: FastifyRequest, reply: FastifyReply) => {
    if (draining?.() && request.raw.httpVersionMajor === 1) reply.header('connection', 'close');
  };

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const statusCode = err.statusCode === 413 ? 413 : err.statusCode && err.statusCode < 500 ? 400 : 500;
    const reason = badRequestReason(err);
    options.onBadRequest?.(request.routeOptions.url ?? request.url, statusCode);
    options.logger.warn({ route: request.url, statusCode, reason }, 'bad admission request');
    closeWhenDraining(request, reply);
    const body: ErrorBody = {
      statusCode,
      error: statusCode === 413 ? 'Payload Too Large' : statusCode === 400 ? 'Bad Request' : 'Internal Server Error',
      reason,
    };
    return reply.code(statusCode).type('application/json').send(body);
  });

  const audit = infoLineWriter(options.logger, 'admission decision');
  const route = (phase: Phase) => ({
    schema: { body: admissionReviewSchema, response: { 200: admissionReviewResponseSchema } },
    // Synchronous: the decision awaits nothing, and an async handler costs a promise per request.
    handler: (request: FastifyRequest<{ Body: AdmissionReview }>, reply: FastifyReply) => {
      const started = performance.now();
      const body = request.body;
      const snapshot = options.snapshot();
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
      audit(record);
      options.onDecision?.(record);
      closeWhenDraining(request, reply);
      reply.send(outcome.review);
    },
  });
  app.post('/validate', route('validate'));
  app.post('/mutate', route('mutate'));
  done();
};

/** The JSON body parser of the admission routes (named: the bench's profile counts it as the body parse). */
function parseReviewBody(_request: FastifyRequest, body: string | Buffer, parsed: ContentTypeParserDone): void {
  // A leading BOM is dropped, as Fastify's own parser (secure-json-parse) does.
  const text = (body as string).charCodeAt(0) === 0xfeff ? (body as string).slice(1) : (body as string);
  if (text === '')
    return parsed(Object.assign(new Error('empty body'), { statusCode: 400, code: 'FST_ERR_CTP_EMPTY_JSON_BODY' }));
  // Each container opens with a `{` or `[` of its own: a text no longer than the bound cannot exceed it, so a
  // review of a few KB (every Service, most workloads) is not scanned twice.
  if (text.length > MAX_JSON_CONTAINERS && countJsonContainers(text, MAX_JSON_CONTAINERS) > MAX_JSON_CONTAINERS) {
    return parsed(
      Object.assign(new Error(`more than ${MAX_JSON_CONTAINERS} JSON objects and arrays`), {
        statusCode: 413,
        code: 'FST_ERR_CTP_BODY_TOO_LARGE',
      }),
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return parsed(Object.assign(err as Error, { statusCode: 400 }));
  }
  parsed(null, value);
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
      if (err instanceof SyntaxError || (err.statusCode === 400 && /JSON|Unexpected|token/i.test(err.message)))
        return `malformed JSON: ${err.message}`;
      return err.message;
  }
}

/** Turns ajv's first error into a sentence that names the field, e.g. `request.uid is required`. */
export function describeEnvelopeError(errors: SchemaError[], dataVar: string): string {
  const e = errors[0];
  if (!e) return 'invalid AdmissionReview';
  if (e.instancePath === '/apiVersion' && e.keyword === 'enum')
    return `unknown apiVersion: expected one of ${SUPPORTED_API_VERSIONS.join(', ')}`;
  return describeSchemaError(e, {
    field: (pointer) => pointerTokens(pointer).join('.') || (dataVar === 'body' ? 'the body' : dataVar),
    separator: ' ',
    values: 'bare',
    types: 'plain',
    required: { scope: '' },
  }).message;
}
