import { isDeepStrictEqual } from 'node:util';
import type { MachineConfigRecord } from './machineconfig.js';
import type {
  ClusterVersionRecord,
  KindName,
  MachineConfigurationRecord,
  NodeRecord,
  PoolRecord,
  RecordOf,
} from './records.js';
import { matchesLabelSelector } from './selectors.js';
import { NodeIndex, type IndexedNode } from './node-index.js';
import type { ClusterSnapshot, PoolInfo, SctpStatus } from './snapshot.js';

/** A snapshot before the source adds its clock-dependent fields. */
export type SnapshotBody = Omit<ClusterSnapshot, 'ageSeconds' | 'stale'>;

/**
 * The reduced objects of one cluster, fed by informer events or by the offline loader, and turned into an
 * immutable ClusterSnapshot by `build`.
 */
export class ClusterState {
  readonly nodes = new Map<string, NodeRecord>();
  readonly machineConfigs = new Map<string, MachineConfigRecord>();
  readonly pools = new Map<string, PoolRecord>();
  readonly clusterVersions = new Map<string, ClusterVersionRecord>();
  readonly machineConfigurations = new Map<string, MachineConfigurationRecord>();
  /** The node index, once built: from then on each Node change is applied to it in place. */
  private index?: NodeIndex;
  /** Set when what every node's pool or SCTP state depends on changed: the pools' selectors, a config nodes run. */
  private placementStale = true;
  private machineConfigsAvailable = false;
  /** Rendered config name → the nodes whose current or desired config it is: the nodes a config event can move. */
  private readonly nodesByConfig = new Map<string, Set<string>>();
  /** Nodes per config they run: renderedIgnitionVersion without a visit per node. */
  private readonly currentConfigs = new Map<string, number>();

  private store<K extends KindName>(kind: K): Map<string, RecordOf[K]> {
    const stores: { [P in KindName]: Map<string, RecordOf[P]> } = {
      Node: this.nodes,
      MachineConfig: this.machineConfigs,
      MachineConfigPool: this.pools,
      ClusterVersion: this.clusterVersions,
      MachineConfiguration: this.machineConfigurations,
    };
    return stores[kind];
  }

  /** Stores a reduced object; false when nothing sctp-guard reads changed (e.g. a node heartbeat). */
  upsert<K extends KindName>(kind: K, record: RecordOf[K]): boolean {
    const store = this.store(kind);
    const name = record.metadata.name;
    const previous = store.get(name);
    // The previous record stays when only its metadata moved.
    if (previous && isDeepStrictEqual({ ...previous, metadata: undefined }, { ...record, metadata: undefined }))
      return false;
    store.set(name, record);
    this.changed(kind, name, previous, record);
    return true;
  }

  remove(kind: KindName, name: string): boolean {
    const previous = this.store(kind).get(name);
    if (!previous) return false;
    this.store(kind).delete(name);
    this.changed(kind, name, previous, undefined);
    return true;
  }

  /**
   * A Node change goes into the index at once, in time that follows the node, not the cluster. A config event
   * places again just the nodes that name it (machineConfigStatus reads configs by name only): none for a new
   * rendered config, which no node runs before its pool's rollout starts. A pool's selector can move every node:
   * the next `build` restates them.
   */
  private changed(kind: KindName, name: string, previous?: RecordOf[KindName], next?: RecordOf[KindName]): void {
    if (kind === 'Node') {
      this.countConfigs(previous as NodeRecord | undefined, -1);
      this.countConfigs(next as NodeRecord | undefined, 1);
      // While the placement is stale the next build restates every node, this one included.
      if (!next) this.index?.delete(name);
      else if (this.index && !this.placementStale) this.index.set(name, this.indexed(next as NodeRecord));
    } else if (kind === 'MachineConfigPool') {
      const [a, b] = [previous as PoolRecord | undefined, next as PoolRecord | undefined];
      if (!a || !b || !isDeepStrictEqual(a.nodeSelector, b.nodeSelector)) this.placementStale = true;
    } else if (kind === 'MachineConfig' && this.index && !this.placementStale) {
      const [a, b] = [previous as MachineConfigRecord | undefined, next as MachineConfigRecord | undefined];
      if (isDeepStrictEqual(a?.sctp, b?.sctp)) return;
      for (const node of this.nodesByConfig.get(name) ?? []) this.index.set(node, this.indexed(this.nodes.get(node)!));
    }
  }

  /** The resourceVersion of the stored object (of the last write that changed what sctp-guard reads). */
  resourceVersion(kind: KindName, name: string): string | undefined {
    return this.store(kind).get(name)?.metadata.resourceVersion;
  }

  private countConfigs(node: NodeRecord | undefined, by: 1 | -1): void {
    if (!node) return;
    const name = node.metadata.name;
    for (const config of new Set([node.currentConfig, node.desiredConfig])) {
      if (config === undefined) continue;
      const nodes = this.nodesByConfig.get(config) ?? new Set<string>();
      if (by > 0) this.nodesByConfig.set(config, nodes.add(name));
      else if (nodes.delete(name) && nodes.size === 0) this.nodesByConfig.delete(config);
    }
    if (node.currentConfig === undefined) return;
    const n = (this.currentConfigs.get(node.currentConfig) ?? 0) + by;
    if (n === 0) this.currentConfigs.delete(node.currentConfig);
    else this.currentConfigs.set(node.currentConfig, n);
  }

  /** What the index keeps of a node: its pool (poolOf) and SCTP state (machineConfigStatus) from the stored configs. */
  private indexed(node: NodeRecord): IndexedNode {
    const pool = poolOf(node, [...this.pools.values()]);
    const status: SctpStatus = this.machineConfigsAvailable
      ? machineConfigStatus(node, this.machineConfigs)
      : { state: 'unknown', reason: 'no MachineConfig data (not OpenShift, or MachineConfigs not readable)' };
    return { labels: node.labels, taints: node.taints, ...(pool ? { pool } : {}), status };
  }

  /** The names stored for a kind (a copy: the caller may remove while iterating). */
  names(kind: KindName): string[] {
    return [...this.store(kind).keys()];
  }

  count(kind: KindName): number {
    return this.store(kind).size;
  }

  /**
   * The snapshot: pools and configs restated (O(pools × configs)); the node index only when `changed` marked every
   * node's placement stale, or once at the start, filled in name order so that its slots follow node names.
   */
  build(source: ClusterSnapshot['source'], machineConfigsAvailable: boolean): SnapshotBody {
    const pools = [...this.pools.values()].sort((a, b) => a.name.localeCompare(b.name));
    if (machineConfigsAvailable !== this.machineConfigsAvailable) this.placementStale = true;
    this.machineConfigsAvailable = machineConfigsAvailable;
    const nodes = (this.index ??= new NodeIndex());
    if (this.placementStale) {
      this.placementStale = false;
      for (const name of [...this.nodes.keys()].sort()) nodes.set(name, this.indexed(this.nodes.get(name)!));
    }
    const renderedIgnitionVersion = this.renderedIgnitionVersion(pools);
    const openshiftVersion = this.clusterVersions.get('version')?.desiredVersion;
    const irreconcilableOverrides = this.machineConfigurations.get('cluster')?.storageOverrides;
    const controllerIgnitionVersion = this.controllerIgnitionVersion();
    return Object.freeze({
      source,
      ...(renderedIgnitionVersion ? { renderedIgnitionVersion } : {}),
      ...(openshiftVersion ? { openshiftVersion } : {}),
      ...(irreconcilableOverrides ? { irreconcilableOverrides } : {}),
      ...(controllerIgnitionVersion ? { controllerIgnitionVersion } : {}),
      machineConfigsAvailable,
      nodes,
      pools: pools.map(({ metadata: _m, ...info }): PoolInfo => {
        const current = this.machineConfigs.get(info.currentConfig ?? '');
        const target = this.machineConfigs.get(info.targetConfig ?? '');
        const version = current?.ignitionVersion ?? target?.ignitionVersion;
        const compared = target ?? current;
        return {
          ...info,
          ...(version ? { ignitionVersion: version } : {}),
          ...(current ? { fixedSections: current.fixed ?? {} } : {}),
          ...(compared ? { renderedFields: compared.merge ?? {} } : {}),
          ...(machineConfigsAvailable ? { mergedFrom: this.mergedFrom(info) } : {}),
        };
      }),
      machineConfigNames: [...this.machineConfigs.keys()].sort(),
    });
  }

  /** The pool's MachineConfigs that set fips, kernelType or extensions (the render controller's selection). */
  private mergedFrom(pool: PoolInfo): NonNullable<PoolInfo['mergedFrom']> {
    const selector = pool.machineConfigSelector;
    if (!selector) return [];
    const out: Array<NonNullable<PoolInfo['mergedFrom']>[number]> = [];
    for (const mc of this.machineConfigs.values()) {
      if (!mc.rendered && mc.merge && matchesLabelSelector(mc.labels ?? {}, selector))
        out.push({ name: mc.metadata.name, ...mc.merge });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * The newest version among the MCO's generated configs: the controller writes them all in its own version when it
   * starts (template controller, kubelet-config and container-runtime-config controllers), and only one controller
   * runs at a time (leader election), so a config in a newer version means the newer controller is the one running.
   */
  private controllerIgnitionVersion(): string | undefined {
    let newest: string | undefined;
    for (const m of this.machineConfigs.values()) {
      if (
        m.generated &&
        m.ignitionVersion &&
        (!newest || m.ignitionVersion.localeCompare(newest, undefined, { numeric: true }) > 0)
      )
        newest = m.ignitionVersion;
    }
    return newest;
  }

  /**
   * The Ignition version the cluster renders: that of the pools' current rendered configs, else of the configs
   * the nodes run, else of any rendered config (the MCO renders every pool at its one internal version).
   */
  private renderedIgnitionVersion(pools: PoolRecord[]): string | undefined {
    const one = (name: string | undefined): [string | undefined, number] => [name, 1];
    // Each list only when the one before names no known config: a build reads no node when the pools say.
    const candidates = [
      () => pools.map((p) => one(p.currentConfig)),
      () => [...this.currentConfigs],
      () => [...this.machineConfigs.values()].filter((m) => m.rendered).map((m) => one(m.metadata.name)),
    ];
    for (const names of candidates) {
      const counts = new Map<string, number>();
      for (const [name, weight] of names()) {
        const version = name ? this.machineConfigs.get(name)?.ignitionVersion : undefined;
        if (version) counts.set(version, (counts.get(version) ?? 0) + weight);
      }
      const best = [...counts].sort((a, b) => b[1] - a[1] || b[0].localeCompare(a[0], undefined, { numeric: true }))[0];
      if (best) return best[0];
    }
    return undefined;
  }
}

/**
 * The pool the MCO puts a node in (openshift/machine-config-operator pkg/controller/node/node_controller.go
 * getPoolsForNode): pools whose non-empty nodeSelector matches; master wins, then a single custom pool over
 * worker; two custom pools is an error there, so no pool here.
 */
export function poolOf(node: NodeRecord, pools: readonly PoolInfo[]): string | undefined {
  const matching = pools.filter((p) => {
    const s = p.nodeSelector;
    const empty = !s || (Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0);
    return !empty && matchesLabelSelector(node.labels, s);
  });
  if (matching.some((p) => p.name === 'master')) return 'master';
  const custom = matching.filter((p) => p.name !== 'worker');
  if (custom.length > 1) return undefined;
  return custom[0]?.name ?? matching[0]?.name;
}

/**
 * A node's SCTP state from OpenShift: the rendered MachineConfig it runs counts only when the machine-config
 * daemon says it is applied (state Done, desiredConfig = currentConfig); otherwise the node is mid-rollout.
 */
export function machineConfigStatus(node: NodeRecord, configs: ReadonlyMap<string, MachineConfigRecord>): SctpStatus {
  const current = node.currentConfig;
  if (!current) return { state: 'unknown', reason: 'no MachineConfig annotations (not managed by the MCO)' };
  const desired = node.desiredConfig ?? current;
  if (node.mcdState !== 'Done' || desired !== current) {
    const target = configs.get(desired);
    const moving = desired !== current ? `${current} → ${desired}` : current;
    return {
      state: 'pending',
      reason: `MachineConfig rollout in progress (state ${node.mcdState ?? 'unset'}, ${moving})`,
      config: current,
      desiredCarriesSctp: target?.sctp.carries === true,
    };
  }
  const config = configs.get(current);
  if (!config) return { state: 'unknown', reason: `rendered config ${current} not found`, config: current };
  const { carries, reason } = config.sctp;
  return { state: carries === true ? 'ready' : carries === false ? 'not-ready' : 'unknown', reason, config: current };
}
