/**
 * What the rules know about the cluster: an immutable value, rebuilt by the informers or the file loader
 * whenever the cluster changes, so that a decision never calls the API server.
 */
export interface ClusterSnapshot {
  /** `none`: no cluster state at all; `offline`: loaded from files; `live`: fed by informers. */
  readonly source: 'none' | 'offline' | 'live';
  /** The Ignition spec version of the current rendered MachineConfigs, when there are any. */
  readonly renderedIgnitionVersion?: string;
  /** The OpenShift release from ClusterVersion `version` (status.desired.version), when known. */
  readonly openshiftVersion?: string;
}

export const EMPTY_SNAPSHOT: ClusterSnapshot = Object.freeze({ source: 'none' });
