import type { FastifyPluginCallback } from 'fastify';

export interface ProbeRoutesOptions {
  readiness: () => { ready: boolean; reason: string };
  /** True once shutdown has begun: /readyz answers 503 so that endpoints drop this replica first. */
  draining?: () => boolean;
}

/** GET /healthz (the process serves) and GET /readyz (cluster state synced, not shutting down), for the kubelet. */
export const probeRoutes: FastifyPluginCallback<ProbeRoutesOptions> = (app, options, done) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (options.draining?.()) return reply.code(503).send({ status: 'not ready', reason: 'shutting down' });
    const { ready, reason } = options.readiness();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', reason });
  });
  done();
};
