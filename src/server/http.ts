import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';

export interface ErrorBody {
  statusCode: number;
  error: string;
  reason: string;
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

/**
 * A Fastify instance with what every sctp-guard listener shares: no request log (the audit trail is the log),
 * 503 while closing, the slow-client timeouts, and JSON 404/405 answers that list the routes.
 */
export function baseApp(
  timeouts: Timeouts,
  options: FastifyServerOptions & Record<string, unknown> = {},
): FastifyInstance {
  // The HTTP/2 server has other generic types but the same request/reply API: one instance type for all.
  const app = Fastify({
    logger: false,
    return503OnClosing: true,
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    ...options,
  }) as unknown as FastifyInstance;

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
      const body: ErrorBody = {
        statusCode: 405,
        error: 'Method Not Allowed',
        reason: `${request.method} ${path} is not allowed; use ${allowed.join(', ')}`,
      };
      return reply.code(405).header('allow', allowed.join(', ')).send(body);
    }
    const body: ErrorBody = {
      statusCode: 404,
      error: 'Not Found',
      reason: `no route ${request.method} ${path}; routes: ${listing}`,
    };
    return reply.code(404).send(body);
  });
  return app;
}
