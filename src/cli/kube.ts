import type { KubeApi } from '../cluster/kube-api.js';
import type { KindName } from '../cluster/records.js';
import type { ClusterSnapshot } from '../cluster/snapshot.js';
import type { Policy } from '../policy/types.js';
import { createLogger } from '../server/logger.js';

/** The cluster access flags every command that talks to a cluster shares, as kubectl spells them. */
export const KUBECONFIG_DEFAULTS =
  '$KUBECONFIG, a :-separated list merged as kubectl does, then ~/.kube/config, then the in-cluster service account';
export const KUBECONFIG_HELP = `kubeconfig file (default: ${KUBECONFIG_DEFAULTS})`;
export const CONTEXT_HELP = 'kubeconfig context to use instead of its current-context';

/**
 * The API server of the kubeconfig (see loadCredentials for its errors), checked to be a Kubernetes API server
 * before anything is listed or written: an error when there are no credentials anywhere, when it does not
 * answer, rejects the credentials, or is something else (a web server's 404 must not read as an empty cluster).
 */
export async function connect(file: string | undefined, context?: string): Promise<KubeApi> {
  const { liveApi } = await import('../cluster/live-source.js');
  const api = liveApi({ kubeconfig: file, ...(context ? { context } : {}) });
  if (!api)
    throw new Error(
      'no cluster to talk to: pass --kubeconfig, set KUBECONFIG, write ~/.kube/config, or run in a cluster',
    );
  await api.verifyKubernetes();
  return api;
}

/**
 * The cluster state once (informers started, synced, stopped) from an API server connect() has checked: of `kinds`
 * (what the command's rules read), else of every kind.
 */
export async function liveSnapshot(
  api: KubeApi,
  policy: Policy,
  kinds?: readonly KindName[],
): Promise<ClusterSnapshot> {
  // Informer warnings (a CRD that is not installed) are expected here; only errors reach stderr.
  const { takeLiveSnapshot } = await import('../cluster/live-source.js');
  return takeLiveSnapshot(api, {
    logger: createLogger('error', 2),
    stalenessLimitSeconds: policy.stalenessLimitSeconds,
    ...(kinds ? { kinds } : {}),
  });
}
