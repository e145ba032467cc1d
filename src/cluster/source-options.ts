import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Logger } from 'pino';
import type { Backoff, InformerStatus } from './informers.js';
import type { ClusterSnapshot } from './snapshot.js';

/** Where the server gets cluster state and readiness from; informers or a file loader sit behind it. */
export interface ClusterStateSource {
  snapshot(): ClusterSnapshot;
  readiness(): { ready: boolean; reason: string };
}

export interface ClusterSourceOptions {
  /** Offline: a directory of YAML/JSON files (wins over live credentials). */
  clusterState?: string;
  /** Live: a kubeconfig file; without one, $KUBECONFIG, then the in-cluster service account, else no state. */
  kubeconfig?: string;
  /** The kubeconfig context to use instead of its current-context. */
  context?: string;
  logger: Logger;
  /** A live snapshot whose informers have been down this long counts as stale (policy.stalenessLimitSeconds). */
  stalenessLimitSeconds?: number;
  backoff?: Backoff;
  /** See InformerOptions.watchIdleTimeoutMs. */
  watchIdleTimeoutMs?: number;
  /** Changes arriving within this window are folded into one snapshot rebuild. */
  rebuildDelayMs?: number;
  /** For tests: the environment to read KUBECONFIG and the in-cluster variables from. */
  env?: NodeJS.ProcessEnv;
}

export interface ClusterSource extends ClusterStateSource {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): InformerStatus[];
}

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Where live credentials come from, in kubectl's order (flag, $KUBECONFIG, ~/.kube/config, in-cluster). */
export type CredentialSource = { kubeconfig: string; merged?: string[] } | { inCluster: true };

export function liveCredentials(options: Pick<ClusterSourceOptions, 'kubeconfig' | 'env'>): CredentialSource | undefined {
  const env = options.env ?? process.env;
  if (options.kubeconfig) return { kubeconfig: options.kubeconfig };
  if (env.KUBECONFIG) {
    // kubectl's KUBECONFIG: a list of files, missing ones ignored, merged (client-go clientcmd/loader.go).
    const files = env.KUBECONFIG.split(delimiter).filter(Boolean);
    const present = files.filter((f) => existsSync(f));
    if (present.length === 0) return { kubeconfig: files[0] ?? env.KUBECONFIG };
    return present.length === 1 ? { kubeconfig: present[0]! } : { kubeconfig: present[0]!, merged: present };
  }
  const home = env.HOME ? join(env.HOME, '.kube', 'config') : undefined;
  if (home && existsSync(home)) return { kubeconfig: home };
  if (env.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) return { inCluster: true };
  return undefined;
}
