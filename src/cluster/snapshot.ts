import type { FixedSections } from '../ignition/fixed-sections.js';
import { NodeIndex } from './node-index.js';

/**
 * What the rules know about the cluster: an immutable value, rebuilt by the informers or the file loader
 * whenever the cluster changes, so that a decision never calls the API server.
 *
 * The nodes are the exception: `nodes` is an index that Node events update in place (node-index.ts), read only
 * by synchronous decisions, so that a node moving does not rebuild anything that follows the cluster's size.
 */

export type { NodeClass, SctpState, SctpStatus, Taint } from './node-index.js';

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

/**
 * The fields `MergeMachineConfigs` (openshift/machine-config-operator pkg/controller/common/helpers.go) merges
 * besides the Ignition config, when set: `fips: true` in any MachineConfig wins, the last non-default
 * `kernelType` wins, extensions are concatenated.
 */
export interface MergeFields {
  readonly fips?: boolean;
  readonly kernelType?: string;
  readonly extensions?: readonly string[];
}

export interface PoolInfo {
  readonly name: string;
  readonly nodeSelector?: LabelSelector;
  /**
   * What the pool's current rendered config carries in the sections the daemon cannot change on running nodes;
   * absent when that rendered config is not known.
   */
  readonly fixedSections?: FixedSections;
  /** `status.configuration.name`: the rendered config the pool's updated nodes run. */
  readonly currentConfig?: string;
  /** `spec.configuration.name`: the rendered config the pool is rolling out. */
  readonly targetConfig?: string;
  readonly machineCount?: number;
  readonly updatedMachineCount?: number;
  readonly degraded: boolean;
  /** `spec.machineConfigSelector`: which MachineConfigs the MCO merges into the pool's rendered config. */
  readonly machineConfigSelector?: LabelSelector;
  /** `spec.maxUnavailable` as written (a count or a percentage); the MCO's default is 1. */
  readonly maxUnavailable?: number | string;
  /** The Ignition spec version of the pool's rendered config (current, else the one it rolls out). */
  readonly ignitionVersion?: string;
  /**
   * fips, kernelType and extensions of the rendered config the render controller compares a new one with
   * (`spec.configuration`, else `status.configuration`); absent when that config is not known.
   */
  readonly renderedFields?: MergeFields;
  /**
   * The pool's own MachineConfigs (machineConfigSelector matches their labels) that set fips, a kernelType or
   * extensions, by name; absent without MachineConfig data.
   */
  readonly mergedFrom?: ReadonlyArray<MergeFields & { readonly name: string }>;
}

export interface ClusterSnapshot {
  /** `none`: no cluster state at all; `offline`: loaded from files; `live`: fed by informers. */
  readonly source: 'none' | 'offline' | 'live';
  /** The Ignition spec version of the current rendered MachineConfigs, when there are any. */
  readonly renderedIgnitionVersion?: string;
  /** The OpenShift release from ClusterVersion `version` (status.desired.version), when known. */
  readonly openshiftVersion?: string;
  /** The newest Ignition version the MCO's controllers wrote their own (non-rendered) configs in: what the running controller reads. */
  readonly controllerIgnitionVersion?: string;
  /** Seconds since the state was last known to be current (0 for offline state and healthy informers). */
  readonly ageSeconds: number;
  /** True when node state cannot be trusted: informers not synced yet, or down past the staleness limit. */
  readonly stale: boolean;
  /** Whether MachineConfig data was available (OpenShift with the MCO). */
  readonly machineConfigsAvailable: boolean;
  /** The nodes: label index, node classes, SCTP state; updated in place by Node events. */
  readonly nodes: NodeIndex;
  readonly pools: readonly PoolInfo[];
  /**
   * `MachineConfiguration` `cluster` `spec.irreconcilableValidationOverrides.storage` (Disks, FileSystems, Raid):
   * the sections whose changes the MCO then accepts (for new nodes only). Absent when the object or field is.
   */
  readonly irreconcilableOverrides?: readonly string[];
  /** Names of every MachineConfig (rendered ones included), so that a new one can be named without a collision. */
  readonly machineConfigNames?: readonly string[];
}

export const EMPTY_SNAPSHOT: ClusterSnapshot = Object.freeze({
  source: 'none',
  ageSeconds: 0,
  stale: false,
  machineConfigsAvailable: false,
  nodes: new NodeIndex(),
  pools: [],
});
