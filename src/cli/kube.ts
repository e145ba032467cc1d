// Type-only: @kubernetes/client-node takes most of a second to load, so it is loaded when a command needs a cluster.
import type { KubeConfig } from '@kubernetes/client-node';
import { describeStatus, KubeApi } from '../cluster/kube-api.js';
import type { ClusterSnapshot } from '../cluster/snapshot.js';
import type { Policy } from '../policy/types.js';
import { createLogger } from '../server/logger.js';

/** The cluster access flags every command that talks to a cluster shares, as kubectl spells them. */
export const KUBECONFIG_DEFAULTS = '$KUBECONFIG, a :-separated list merged as kubectl does, then ~/.kube/config, then the in-cluster service account';
export const KUBECONFIG_HELP = `kubeconfig file (default: ${KUBECONFIG_DEFAULTS})`;
export const CONTEXT_HELP = 'kubeconfig context to use instead of its current-context';

/** The kubeconfig to use (see liveKubeConfig for the errors), or an error when there is none anywhere. */
export async function requireKubeConfig(file: string | undefined, context?: string): Promise<KubeConfig> {
  const { liveKubeConfig } = await import('../cluster/live-source.js');
  const kubeConfig = await liveKubeConfig({ kubeconfig: file, ...(context ? { context } : {}) });
  if (!kubeConfig) throw new Error('no cluster to talk to: pass --kubeconfig, set KUBECONFIG, write ~/.kube/config, or run in a cluster');
  return kubeConfig;
}

/**
 * The cluster state once (informers started, synced, stopped), after one quick request that fails fast on an
 * unreachable or unhealthy server or rejected credentials instead of waiting out the informers' retries.
 */
export async function liveSnapshot(kubeConfig: KubeConfig, kubeconfigFile: string | undefined, policy: Policy, context?: string): Promise<ClusterSnapshot> {
  const api = new KubeApi(kubeConfig);
  const response = await api.get('/version');
  if (response.status === 401 || response.status === 403) throw new Error(describeStatus(`get ${api.server}/version`, response));
  if (response.status >= 500) throw new Error(`the API server at ${api.server} is not serving (${response.status}): ${response.message}`);
  // Informer warnings (a CRD that is not installed) are expected here; only errors reach stderr.
  const { takeLiveSnapshot } = await import('../cluster/live-source.js');
  return takeLiveSnapshot({ kubeconfig: kubeconfigFile, ...(context ? { context } : {}), logger: createLogger('error', 2), stalenessLimitSeconds: policy.stalenessLimitSeconds });
}
