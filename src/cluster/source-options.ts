import type { Logger } from 'pino';
import type { Backoff, InformerStatus } from './informers.js';
import type { CredentialOptions } from './kubeconfig.js';
import type { KindName } from './records.js';
import type { ClusterSnapshot } from './snapshot.js';

/** Where the server gets cluster state and readiness from; informers or a file loader sit behind it. */
export interface ClusterStateSource {
  snapshot(): ClusterSnapshot;
  readiness(): { ready: boolean; reason: string };
}

export interface ClusterSourceOptions extends CredentialOptions {
  /** Offline: a directory of YAML/JSON files (wins over live credentials). */
  clusterState?: string;
  logger: Logger;
  /** A live snapshot whose informers have been down this long counts as stale (policy.stalenessLimitSeconds). */
  stalenessLimitSeconds?: number;
  backoff?: Backoff;
  /** See InformerOptions.watchIdleTimeoutMs. */
  watchIdleTimeoutMs?: number;
  /**
   * The kinds to watch or load (the composition root passes what the rules declare they read, `clusterDataOf`);
   * every kind when left out.
   */
  kinds?: readonly KindName[];
  /** Changes arriving within this window are folded into one snapshot rebuild. */
  rebuildDelayMs?: number;
  /**
   * Called once, with the first snapshot decisions can use: the offline state loaded, the live informers' first
   * sync, or at start when there is no cluster state.
   */
  onReady?: (snapshot: ClusterSnapshot) => void;
}

export interface ClusterSource extends ClusterStateSource {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): InformerStatus[];
}
