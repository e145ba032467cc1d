import type { FastifyPluginCallback } from 'fastify';
import type { MetricsEndpoint } from './metrics.js';

/** GET /metrics in the Prometheus text format. */
export const metricsRoute: FastifyPluginCallback<{ metrics: MetricsEndpoint }> = (app, { metrics }, done) => {
  app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.render()));
  done();
};
