import type { Logger } from 'pino';
import type { ClusterStateSource } from '../server/app.js';
import { EMPTY_SNAPSHOT } from './snapshot.js';

export interface ClusterSourceOptions {
  clusterState?: string;
  kubeconfig?: string;
  logger: Logger;
}

/** Per-informer health, for /readyz, /metrics and the audit line. */
export interface InformerStatus {
  resource: string;
  available: boolean;
  synced: boolean;
  objects: number;
  lastEventAt?: number;
  lastError?: string;
}

export interface ClusterSource extends ClusterStateSource {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): InformerStatus[];
}

/** Picks where cluster state comes from: offline files, a live cluster, or nothing. */
export function createClusterSource(_options: ClusterSourceOptions): ClusterSource {
  return {
    snapshot: () => EMPTY_SNAPSHOT,
    readiness: () => ({ ready: true, reason: 'no cluster state configured' }),
    start: async () => {},
    stop: async () => {},
    status: () => [],
  };
}
