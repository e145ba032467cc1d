import type { FastifyPluginCallback } from 'fastify';
import { effectiveStatus } from '../cluster/placement.js';
import type { SctpState } from '../cluster/snapshot.js';
import type { Policy } from '../policy/types.js';
import type { ClusterStateSource } from '../cluster/source-options.js';

const STATES: readonly SctpState[] = ['ready', 'not-ready', 'pending', 'unknown'];

export interface NodeReport {
  name: string;
  pool?: string;
  state: SctpState;
  reason: string;
  config?: string;
}

/**
 * GET /debug/nodes: every node's SCTP state and the reason, as the rules see it (policy label included).
 * `?state=not-ready` (any of ready, not-ready, pending, unknown) keeps only those nodes. Not an admission path:
 * its cost follows the node count.
 */
export const debugRoutes: FastifyPluginCallback<{ cluster: ClusterStateSource; policy: Policy }> = (
  app,
  options,
  done,
) => {
  app.get<{ Querystring: { state?: string } }>('/debug/nodes', async (request, reply) => {
    const wanted = request.query.state;
    if (wanted !== undefined && !STATES.includes(wanted as SctpState)) {
      return reply
        .code(400)
        .send({ statusCode: 400, error: 'Bad Request', reason: `state must be one of ${STATES.join(', ')}` });
    }
    const snapshot = options.cluster.snapshot();
    const counts: Record<SctpState, number> = { ready: 0, 'not-ready': 0, pending: 0, unknown: 0 };
    const nodes: NodeReport[] = [];
    for (const cls of snapshot.nodes.classes) {
      const status = snapshot.stale
        ? { state: 'unknown' as const, reason: 'cluster state is stale' }
        : effectiveStatus(cls, options.policy);
      counts[status.state] += cls.nodes.length;
      if (wanted && status.state !== wanted) continue;
      for (const name of cls.nodes) {
        nodes.push({
          name,
          ...(cls.pool ? { pool: cls.pool } : {}),
          state: status.state,
          reason: status.reason,
          ...('config' in status && status.config ? { config: status.config } : {}),
        });
      }
    }
    nodes.sort((a, b) => a.name.localeCompare(b.name));
    return {
      source: snapshot.source,
      stale: snapshot.stale,
      ageSeconds: snapshot.ageSeconds,
      ...(snapshot.openshiftVersion ? { openshiftVersion: snapshot.openshiftVersion } : {}),
      ...(snapshot.renderedIgnitionVersion ? { renderedIgnitionVersion: snapshot.renderedIgnitionVersion } : {}),
      sctpNodeLabel: options.policy.sctpNodeLabel,
      nodeCount: snapshot.nodes.size,
      counts,
      pools: snapshot.pools,
      nodes,
    };
  });
  done();
};
