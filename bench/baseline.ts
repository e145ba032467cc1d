/**
 * The benchmark's floor: a bare Fastify HTTPS server with sctp-guard's TLS settings and body limit that parses
 * the same AdmissionReview JSON and answers every review with the same allow (echoing only `request.uid`, which
 * any correct webhook must). What sctp-guard costs above this is the price of its decisions.
 *
 * Run as a child of the harness: `node dist/bench/baseline.js --tls-cert F --tls-key F [--http2]`; it listens
 * on 127.0.0.1, port 0, and tells the parent its port over the IPC channel.
 */
import Fastify, { type FastifyInstance, type RawServerBase } from 'fastify';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { DEFAULT_BODY_LIMIT } from '../src/server/app.js';
import { readKeyPair, TLS_SETTINGS } from '../src/server/tls.js';
import { constantAllow } from './constant-allow.js';

export interface BaselineReady {
  port: number;
}

const { values } = parseArgs({
  options: {
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    http2: { type: 'boolean', default: false },
  },
});
if (!values['tls-cert'] || !values['tls-key']) {
  process.stderr.write('baseline: --tls-cert and --tls-key are required\n');
  process.exit(2);
}
const https = { ...TLS_SETTINGS, ...readKeyPair(values['tls-cert'], values['tls-key']) };
// HTTP/2 the way a webhook would offer it: ALPN h2 with HTTP/1.1 still accepted.
const app = values.http2
  ? addRoutes(
      Fastify({ logger: false, bodyLimit: DEFAULT_BODY_LIMIT, http2: true, https: { ...https, allowHTTP1: true } }),
    )
  : addRoutes(Fastify({ logger: false, bodyLimit: DEFAULT_BODY_LIMIT, keepAliveTimeout: 65_000, https }));

interface Review {
  request?: { uid?: string };
}

function addRoutes<S extends RawServerBase>(server: FastifyInstance<S>): FastifyInstance<S> {
  for (const url of ['/validate', '/mutate']) {
    server.post(url, async (request, reply) => {
      const uid = (request.body as Review | null)?.request?.uid ?? '';
      return reply.type('application/json').send(constantAllow(uid));
    });
  }
  server.get('/readyz', async () => ({ status: 'ready' }));
  return server;
}

await app.listen({ port: 0, host: '127.0.0.1' });
const ready: BaselineReady = { port: (app.server.address() as AddressInfo).port };
process.send?.(ready);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
