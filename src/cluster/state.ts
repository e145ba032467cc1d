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
import type { ClusterSnapshot, NodeClass, PoolInfo, SctpStatus } from './snapshot.js';

/** Labels unique to each node: kept out of the equivalence classes and indexed by value instead. */
export const PER_NODE_LABELS: readonly string[] = ['kubernetes.io/hostname'];

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
  /** Class key part that only depends on the node itself (shared labels, taints), cached per node. */
  private readonly nodeKeys = new Map<string, string>();
  /**
   * Per node, what `build` worked out from it (pool, SCTP state, class key), valid while the record and the
   * MachineConfigs and pools stay the same: a rebuild after one node event recomputes one node, not 10,000.
   */
  private readonly placed = new Map<string, { record: NodeRecord; pool?: string; status: SctpStatus; key: string }>();
  /** Bumped on any change to MachineConfigs or pools (which every node's pool and state depend on). */
  private configsVersion = 0;
  private placedFor = '';
  /** Node names in order; dropped when a node comes or goes. */
  private sortedNodes?: string[];
  /**
   * The node classes of the last build, kept while no node and no node's placement changed: an event that touches
   * neither (a new rendered config no node runs yet, a relisted object) rebuilds none of it, and what callers
   * cache per class survives.
   */
  private nodePart?: Pick<SnapshotBody, 'classes' | 'nodeClass' | 'perNodeLabels'>;
  /** Rendered config name → the nodes whose current or desired config it is. */
  private readonly nodesByConfig = new Map<string, Set<string>>();

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
    // The previous record stays when only its metadata moved: `build` then knows the node by identity.
    if (previous && isDeepStrictEqual({ ...previous, metadata: undefined }, { ...record, metadata: undefined }))
      return false;
    store.set(name, record);
    if (kind === 'Node' && !previous) this.sortedNodes = undefined;
    if (kind === 'Node') {
      this.nodeKeys.set(name, staticKey(record as NodeRecord));
      this.indexConfigs(name, previous as NodeRecord | undefined, record as NodeRecord);
      this.nodePart = undefined;
    } else if (kind === 'MachineConfig') this.machineConfigChanged(name);
    else this.configsVersion++;
    return true;
  }

  remove(kind: KindName, name: string): boolean {
    const previous = this.store(kind).get(name);
    const removed = this.store(kind).delete(name);
    if (kind === 'Node') {
      this.indexConfigs(name, previous as NodeRecord | undefined, undefined);
      if (removed) this.sortedNodes = undefined;
      this.nodeKeys.delete(name);
      this.placed.delete(name);
      this.nodePart = undefined;
    } else if (removed && kind === 'MachineConfig') this.machineConfigChanged(name);
    else if (removed) this.configsVersion++;
    return removed;
  }

  /**
   * A node's placement reads MachineConfigs by name only, its current and desired rendered configs
   * (machineConfigStatus), so a MachineConfig event places again just the nodes that name it: none for a new
   * rendered config, which no node runs before its pool's rollout starts.
   */
  private machineConfigChanged(name: string): void {
    for (const node of this.nodesByConfig.get(name) ?? []) {
      this.placed.delete(node);
      this.nodePart = undefined;
    }
  }

  private indexConfigs(node: string, before: NodeRecord | undefined, after: NodeRecord | undefined): void {
    const names = (n: NodeRecord | undefined) => (n ? [n.currentConfig, n.desiredConfig] : []);
    for (const config of names(before)) {
      const nodes = config === undefined ? undefined : this.nodesByConfig.get(config);
      nodes?.delete(node);
      if (nodes?.size === 0) this.nodesByConfig.delete(config!);
    }
    for (const config of names(after)) {
      if (config === undefined) continue;
      const nodes = this.nodesByConfig.get(config) ?? new Set<string>();
      this.nodesByConfig.set(config, nodes.add(node));
    }
  }

  /** The resourceVersion of the stored object (of the last write that changed what sctp-guard reads). */
  resourceVersion(kind: KindName, name: string): string | undefined {
    return this.store(kind).get(name)?.metadata.resourceVersion;
  }

  /** The names stored for a kind (a copy: the caller may remove while iterating). */
  names(kind: KindName): string[] {
    return [...this.store(kind).keys()];
  }

  count(kind: KindName): number {
    return this.store(kind).size;
  }

  build(source: ClusterSnapshot['source'], machineConfigsAvailable: boolean): SnapshotBody {
    const pools = [...this.pools.values()].sort((a, b) => a.name.localeCompare(b.name));
    const placedFor = `${this.configsVersion}|${machineConfigsAvailable}`;
    if (placedFor !== this.placedFor) {
      this.placed.clear();
      this.nodePart = undefined;
    }
    this.placedFor = placedFor;
    this.nodePart ??= this.placeNodes(pools, machineConfigsAvailable);
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
      nodeCount: this.nodes.size,
      ...this.nodePart,
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

  /** Each node's pool and SCTP state (worked out again only for nodes whose record or configs changed), as classes. */
  private placeNodes(
    pools: readonly PoolRecord[],
    machineConfigsAvailable: boolean,
  ): NonNullable<typeof this.nodePart> {
    const classes = new Map<
      string,
      { labels: Record<string, string>; node: NodeRecord; pool?: string; status: SctpStatus; nodes: string[] }
    >();
    const perNodeLabels = new Map<string, Map<string, string[]>>();
    this.sortedNodes ??= [...this.nodes.keys()].sort();
    // In name order, so that each class's member list comes out sorted.
    for (const name of this.sortedNodes) {
      const node = this.nodes.get(name)!;
      let placed = this.placed.get(node.metadata.name);
      if (placed?.record !== node) {
        const pool = poolOf(node, pools);
        const status: SctpStatus = machineConfigsAvailable
          ? machineConfigStatus(node, this.machineConfigs)
          : { state: 'unknown', reason: 'no MachineConfig data (not OpenShift, or MachineConfigs not readable)' };
        const key = `${this.nodeKeys.get(node.metadata.name) ?? staticKey(node)}|${pool ?? ''}|${status.state}|${status.reason}`;
        placed = { record: node, ...(pool ? { pool } : {}), status, key };
        this.placed.set(node.metadata.name, placed);
      }
      const { pool, status, key } = placed;
      let cls = classes.get(key);
      if (!cls) {
        cls = { labels: sharedLabels(node.labels), node, pool, status, nodes: [] };
        classes.set(key, cls);
      }
      cls.nodes.push(node.metadata.name);
      for (const label of PER_NODE_LABELS) {
        const value = node.labels[label];
        if (value === undefined) continue;
        const byValue = perNodeLabels.get(label) ?? new Map<string, string[]>();
        perNodeLabels.set(label, byValue);
        const named = byValue.get(value) ?? [];
        named.push(node.metadata.name);
        byValue.set(value, named);
      }
    }
    const out: NodeClass[] = [];
    const nodeClass = new Map<string, number>();
    for (const c of [...classes.values()].sort((a, b) => (a.nodes[0] ?? '').localeCompare(b.nodes[0] ?? ''))) {
      const id = out.length;
      for (const n of c.nodes) nodeClass.set(n, id);
      out.push(
        Object.freeze({
          id,
          labels: c.labels,
          taints: c.node.taints,
          ...(c.pool ? { pool: c.pool } : {}),
          machineConfig: c.status,
          nodes: c.nodes,
        }),
      );
    }
    return { classes: out, nodeClass, perNodeLabels };
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
  private renderedIgnitionVersion(pools: readonly PoolRecord[]): string | undefined {
    // Each list only when the one before names no known config: a build reads no node when the pools say.
    const candidates = [
      () => pools.map((p) => p.currentConfig),
      () => [...this.nodes.values()].map((n) => n.currentConfig),
      () => [...this.machineConfigs.values()].filter((m) => m.rendered).map((m) => m.metadata.name),
    ];
    for (const names of candidates) {
      const counts = new Map<string, number>();
      for (const name of names()) {
        const version = name ? this.machineConfigs.get(name)?.ignitionVersion : undefined;
        if (version) counts.set(version, (counts.get(version) ?? 0) + 1);
      }
      const best = [...counts].sort((a, b) => b[1] - a[1] || b[0].localeCompare(a[0], undefined, { numeric: true }))[0];
      if (best) return best[0];
    }
    return undefined;
  }
}

function sharedLabels(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) if (!PER_NODE_LABELS.includes(k)) out[k] = labels[k]!;
  return Object.freeze(out);
}

function staticKey(node: NodeRecord): string {
  return JSON.stringify([sharedLabels(node.labels), node.taints]);
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
