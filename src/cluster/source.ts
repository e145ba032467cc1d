import { liveCredentials } from './kubeconfig.js';
import type { ClusterSource, ClusterSourceOptions } from './source-options.js';
import { loadClusterState } from './offline.js';
import type { KindName } from './records.js';
import { EMPTY_SNAPSHOT, type ClusterSnapshot } from './snapshot.js';

/**
 * Picks where cluster state comes from: offline files, a live cluster, or nothing. The live side is loaded only
 * when there are credentials.
 */
export async function createClusterSource(options: ClusterSourceOptions): Promise<ClusterSource> {
  if (options.clusterState) return offlineSource(options.clusterState, options.kinds, options.onReady);
  if (!liveCredentials(options)) return noSource(options.onReady);
  const { LiveClusterSource, liveApi } = await import('./live-source.js');
  return new LiveClusterSource(liveApi(options)!, options);
}

function noSource(onReady: ClusterSourceOptions['onReady']): ClusterSource {
  return {
    snapshot: () => EMPTY_SNAPSHOT,
    readiness: () => ({ ready: true, reason: 'no cluster state configured: node SCTP state is unknown' }),
    start: async () => onReady?.(EMPTY_SNAPSHOT),
    stop: async () => {},
    status: () => [],
  };
}

function offlineSource(
  dir: string,
  kinds: readonly KindName[] | undefined,
  onReady: ClusterSourceOptions['onReady'],
): ClusterSource {
  let snapshot: ClusterSnapshot | undefined;
  return {
    snapshot: () => snapshot ?? EMPTY_SNAPSHOT,
    readiness: () =>
      snapshot
        ? { ready: true, reason: `offline cluster state from ${dir}` }
        : { ready: false, reason: 'offline cluster state not loaded yet' },
    start: async () => {
      snapshot = loadClusterState(dir, kinds);
      onReady?.(snapshot);
    },
    stop: async () => {},
    status: () => [],
  };
}
