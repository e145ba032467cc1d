import { isRecord } from '../util/json.js';
import { apiPath, KINDS, type KindInfo } from '../util/kinds.js';
import type { UnreadStrings } from '../input/elided-strings.js';
import { machineConfigUnread, reduceMachineConfig, type MachineConfigRecord } from './machineconfig.js';
import type { LabelSelector, LabelSelectorRequirement, PoolInfo, Taint } from './snapshot.js';

/**
 * The reduced forms of the objects sctp-guard watches. Informers and the offline loader both go through
 * `reduce`, so a live cluster and a directory of YAML give the same snapshot.
 */
export interface NodeRecord {
  metadata: { name: string; resourceVersion?: string };
  labels: Record<string, string>;
  taints: Taint[];
  /** machineconfiguration.openshift.io/{currentConfig,desiredConfig,state}, written by the machine-config daemon. */
  currentConfig?: string;
  desiredConfig?: string;
  mcdState?: string;
}

export interface PoolRecord extends PoolInfo {
  metadata: { name: string; resourceVersion?: string };
}

export interface ClusterVersionRecord {
  metadata: { name: string; resourceVersion?: string };
  desiredVersion?: string;
}

/** `MachineConfiguration` (operator.openshift.io/v1): only what the MCO's validation reads from it. */
export interface MachineConfigurationRecord {
  metadata: { name: string; resourceVersion?: string };
  /** spec.irreconcilableValidationOverrides.storage (openshift/api operator/v1, 4.20+). */
  storageOverrides?: string[];
}

export type KindName = 'Node' | 'MachineConfig' | 'MachineConfigPool' | 'ClusterVersion' | 'MachineConfiguration';

export interface RecordOf {
  Node: NodeRecord;
  MachineConfig: MachineConfigRecord;
  MachineConfigPool: PoolRecord;
  ClusterVersion: ClusterVersionRecord;
  MachineConfiguration: MachineConfigurationRecord;
}

export const WATCHED_KINDS: Record<KindName, { path: string; plural: string }> = {
  Node: watched(KINDS.Node),
  MachineConfig: watched(KINDS.MachineConfig),
  MachineConfigPool: watched(KINDS.MachineConfigPool),
  ClusterVersion: watched(KINDS.ClusterVersion),
  MachineConfiguration: watched(KINDS.MachineConfiguration),
};

/** Every kind the informers and the offline loader can read, in WATCHED_KINDS order. */
export const KIND_NAMES = Object.keys(WATCHED_KINDS) as KindName[];

function watched(k: KindInfo): { path: string; plural: string } {
  return { path: apiPath(k, k.versions[0]!), plural: k.resource };
}

/**
 * The top-level fields each reducer reads: a streaming reader may drop the others before parsing (a Node's
 * status, with its 50 images, is most of its size). Keep in step with the reducers below.
 */
export const FIELDS_READ: Record<KindName, ReadonlySet<string>> = {
  Node: new Set(['apiVersion', 'kind', 'metadata', 'spec']),
  MachineConfig: new Set(['apiVersion', 'kind', 'metadata', 'spec']),
  MachineConfigPool: new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']),
  ClusterVersion: new Set(['apiVersion', 'kind', 'metadata', 'status']),
  MachineConfiguration: new Set(['apiVersion', 'kind', 'metadata', 'spec']),
};

/** String values each reducer never reads: the informers leave them out as they read (elided-strings.ts). */
export const STRINGS_UNREAD: Partial<Record<KindName, UnreadStrings>> = {
  MachineConfig: machineConfigUnread,
};

export const MCO_ANNOTATION = 'machineconfiguration.openshift.io';

export function isWatchedKind(kind: unknown): kind is KindName {
  return typeof kind === 'string' && Object.hasOwn(WATCHED_KINDS, kind);
}

export function reduce<K extends KindName>(kind: K, raw: Record<string, unknown>): RecordOf[K] {
  const reducers: { [P in KindName]: (raw: Record<string, unknown>) => RecordOf[P] } = {
    Node: reduceNode,
    MachineConfig: reduceMachineConfig,
    MachineConfigPool: reducePool,
    ClusterVersion: reduceClusterVersion,
    MachineConfiguration: reduceMachineConfiguration,
  };
  return reducers[kind](raw);
}

function meta(raw: Record<string, unknown>): { name: string; resourceVersion?: string } {
  const m = isRecord(raw.metadata) ? raw.metadata : {};
  return {
    name: typeof m.name === 'string' ? m.name : '',
    ...(typeof m.resourceVersion === 'string' ? { resourceVersion: m.resourceVersion } : {}),
  };
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isRecord(value)) return out;
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

export function reduceNode(raw: Record<string, unknown>): NodeRecord {
  const m = isRecord(raw.metadata) ? raw.metadata : {};
  const spec = isRecord(raw.spec) ? raw.spec : {};
  const annotations = stringMap(m.annotations);
  const taints: Taint[] = [];
  for (const t of Array.isArray(spec.taints) ? spec.taints : []) {
    if (!isRecord(t) || typeof t.key !== 'string' || (t.effect !== 'NoSchedule' && t.effect !== 'NoExecute')) continue;
    taints.push({
      key: t.key,
      effect: t.effect,
      ...(typeof t.value === 'string' && t.value !== '' ? { value: t.value } : {}),
    });
  }
  // A cordoned node is also tainted node.kubernetes.io/unschedulable by the node lifecycle controller; files
  // written by hand may carry only the flag.
  if (spec.unschedulable === true && !taints.some((t) => t.key === 'node.kubernetes.io/unschedulable')) {
    taints.push({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' });
  }
  taints.sort((a, b) => `${a.key}=${a.value ?? ''}:${a.effect}`.localeCompare(`${b.key}=${b.value ?? ''}:${b.effect}`));
  const current = annotations[`${MCO_ANNOTATION}/currentConfig`];
  const desired = annotations[`${MCO_ANNOTATION}/desiredConfig`];
  const state = annotations[`${MCO_ANNOTATION}/state`];
  return {
    metadata: meta(raw),
    labels: stringMap(m.labels),
    taints,
    ...(current ? { currentConfig: current } : {}),
    ...(desired ? { desiredConfig: desired } : {}),
    ...(state ? { mcdState: state } : {}),
  };
}

export function reduceLabelSelector(value: unknown): LabelSelector | undefined {
  if (!isRecord(value)) return undefined;
  const matchLabels = stringMap(value.matchLabels);
  const matchExpressions: LabelSelectorRequirement[] = [];
  for (const e of Array.isArray(value.matchExpressions) ? value.matchExpressions : []) {
    if (!isRecord(e) || typeof e.key !== 'string' || typeof e.operator !== 'string') continue;
    const values = Array.isArray(e.values) ? e.values.filter((v): v is string => typeof v === 'string') : undefined;
    matchExpressions.push({ key: e.key, operator: e.operator, ...(values ? { values } : {}) });
  }
  return {
    ...(Object.keys(matchLabels).length > 0 ? { matchLabels } : {}),
    ...(matchExpressions.length > 0 ? { matchExpressions } : {}),
  };
}

export function reducePool(raw: Record<string, unknown>): PoolRecord {
  const spec = isRecord(raw.spec) ? raw.spec : {};
  const status = isRecord(raw.status) ? raw.status : {};
  const name = (c: unknown) => (isRecord(c) && typeof c.name === 'string' ? c.name : undefined);
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isRecord) : [];
  const nodeSelector = reduceLabelSelector(spec.nodeSelector);
  const machineConfigSelector = reduceLabelSelector(spec.machineConfigSelector);
  const maxUnavailable =
    typeof spec.maxUnavailable === 'number' || typeof spec.maxUnavailable === 'string'
      ? spec.maxUnavailable
      : undefined;
  const currentConfig = name(status.configuration);
  const targetConfig = name(spec.configuration);
  const machineCount = num(status.machineCount);
  const updatedMachineCount = num(status.updatedMachineCount);
  const m = meta(raw);
  return {
    metadata: m,
    name: m.name,
    ...(nodeSelector ? { nodeSelector } : {}),
    ...(currentConfig ? { currentConfig } : {}),
    ...(targetConfig ? { targetConfig } : {}),
    ...(machineCount !== undefined ? { machineCount } : {}),
    ...(updatedMachineCount !== undefined ? { updatedMachineCount } : {}),
    degraded: conditions.some((c) => c.type === 'Degraded' && c.status === 'True'),
    ...(machineConfigSelector ? { machineConfigSelector } : {}),
    ...(maxUnavailable !== undefined ? { maxUnavailable } : {}),
  };
}

export function reduceClusterVersion(raw: Record<string, unknown>): ClusterVersionRecord {
  const status = isRecord(raw.status) ? raw.status : {};
  const desired = isRecord(status.desired) ? status.desired : {};
  return { metadata: meta(raw), ...(typeof desired.version === 'string' ? { desiredVersion: desired.version } : {}) };
}

export function reduceMachineConfiguration(raw: Record<string, unknown>): MachineConfigurationRecord {
  const spec = isRecord(raw.spec) ? raw.spec : {};
  const overrides = isRecord(spec.irreconcilableValidationOverrides) ? spec.irreconcilableValidationOverrides : {};
  const storage = Array.isArray(overrides.storage)
    ? overrides.storage.filter((s): s is string => typeof s === 'string')
    : [];
  return { metadata: meta(raw), ...(storage.length > 0 ? { storageOverrides: storage } : {}) };
}
