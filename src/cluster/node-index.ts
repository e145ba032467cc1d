import { own } from '../util/json.js';
import { NodeSet, type Members } from './node-sets.js';

/** Whether a node carries SCTP: `pending` is a node mid-rollout (its config is about to change). */
export type SctpState = 'ready' | 'not-ready' | 'pending' | 'unknown';

export interface SctpStatus {
  readonly state: SctpState;
  /** Why, in words that fit in a denial: "rendered-worker-1 keeps /etc/modprobe.d/sctp-blacklist.conf". */
  readonly reason: string;
  /** The rendered MachineConfig the state was read from, when there is one. */
  readonly config?: string;
  /** For `pending`: whether the config the node is moving to carries SCTP. */
  readonly desiredCarriesSctp?: boolean;
}

/** A taint that keeps pods off a node (effects NoSchedule and NoExecute; PreferNoSchedule never does). */
export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: 'NoSchedule' | 'NoExecute';
}

/**
 * Nodes with the same labels (minus per-node labels such as `kubernetes.io/hostname`), taints, pool and SCTP
 * state: what messages, /debug/nodes and the MachineConfig checks read. Placement does not go through classes.
 */
export interface NodeClass {
  readonly id: number;
  /** Labels shared by every member (per-node labels are only in the label index). */
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  /** The MachineConfigPool the members belong to (the MCO's own choice among matching pools). */
  readonly pool?: string;
  /** SCTP state read from OpenShift's rendered MachineConfig; `unknown` without MCO data. */
  readonly machineConfig: SctpStatus;
  /** Member node names, sorted. */
  readonly nodes: readonly string[];
}

/** What the index keeps of a node: its labels and taints, and the pool and SCTP state ClusterState worked out. */
export interface IndexedNode {
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly pool?: string;
  readonly status: SctpStatus;
}

/** Labels unique to each node: kept out of the node classes (they are answered from the label index). */
export const PER_NODE_LABELS: readonly string[] = ['kubernetes.io/hostname'];

/** Nodes with the same taints: a pod either tolerates all of them or none. */
export interface TaintSet {
  readonly taints: readonly Taint[];
  readonly nodes: NodeSet;
}

/** Nodes with the same pool and SCTP state: what an assessment counts. */
export interface StatusGroup {
  readonly pool?: string;
  readonly status: SctpStatus;
  readonly nodes: NodeSet;
}

class MutableClass implements NodeClass {
  readonly members = new Set<string>();
  private sorted?: string[];
  constructor(
    readonly key: string,
    readonly labelsKey: string,
    readonly id: number,
    readonly labels: Readonly<Record<string, string>>,
    readonly taints: readonly Taint[],
    readonly machineConfig: SctpStatus,
    readonly pool?: string,
  ) {}

  get nodes(): readonly string[] {
    return (this.sorted ??= [...this.members].sort());
  }

  add(name: string): void {
    this.members.add(name);
    this.sorted = undefined;
  }

  delete(name: string): void {
    this.members.delete(name);
    this.sorted = undefined;
  }
}

interface Entry {
  slot: number;
  node: IndexedNode;
  taintKey: string;
  groupKey: string;
  cls: MutableClass;
}

function sharedLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(labels).sort()) if (!PER_NODE_LABELS.includes(k)) out[k] = labels[k]!;
  return Object.freeze(out);
}

function entryOf<V>(map: Map<string, V>, key: string, make: () => V): V {
  let v = map.get(key);
  if (v === undefined) map.set(key, (v = make()));
  return v;
}

/**
 * The nodes of a cluster, updated in place by each Node event in time that follows the node's own labels, never
 * the cluster's size: an index of label values to node sets, the sets of nodes sharing taints and sharing an SCTP
 * state, and the node classes (nodes identical but for per-node labels) that messages and MachineConfig checks
 * read. A decision asks it set questions (placement.ts) and never visits nodes; `version` moves with every change,
 * so what is cached from it (assess.ts) lives exactly as long as the nodes it was computed from.
 */
export class NodeIndex {
  /** Bumped by every change to what the index holds. */
  version = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly slotNames: Array<string | undefined> = [];
  private readonly freeSlots: number[] = [];
  readonly all = new NodeSet();
  private readonly byLabel = new Map<string, Map<string, NodeSet>>();
  private readonly byKey = new Map<string, NodeSet>();
  private readonly taintSetsByKey = new Map<string, TaintSet & { key: string }>();
  private readonly groupsByKey = new Map<string, StatusGroup & { key: string }>();
  private readonly classesByKey = new Map<string, MutableClass>();
  private nextClassId = 0;
  private classList?: NodeClass[];

  get size(): number {
    return this.entries.size;
  }

  /**
   * Adds a node or updates it in place; only the sets whose inputs changed are touched, and a node whose labels did
   * not change (a machine-config daemon annotation, the common event) reuses its class's label key.
   */
  set(name: string, node: IndexedNode): void {
    const old = this.entries.get(name);
    const slot = old?.slot ?? this.freeSlots.pop() ?? this.slotNames.length;
    if (!old) {
      this.slotNames[slot] = name;
      this.all.add(slot);
    }
    let labelsChanged = !old;
    for (const k of old ? Object.keys(old.node.labels) : []) {
      const was = old!.node.labels[k]!;
      if (own(node.labels, k) === was) continue;
      this.unlabel(slot, k, was, own(node.labels, k) !== undefined);
      labelsChanged = true;
    }
    for (const k of Object.keys(node.labels)) {
      const v = node.labels[k]!;
      if (old && own(old.node.labels, k) === v) continue;
      let byValue = this.byLabel.get(k);
      if (!byValue) this.byLabel.set(k, (byValue = new Map()));
      let set = byValue.get(v);
      if (!set) byValue.set(v, (set = new NodeSet()));
      set.add(slot);
      let withKey = this.byKey.get(k);
      if (!withKey) this.byKey.set(k, (withKey = new NodeSet()));
      withKey.add(slot);
      labelsChanged = true;
    }
    const taintKey = this.move(this.taintSetsByKey, JSON.stringify(node.taints), old?.taintKey, slot, (key) => ({
      key,
      taints: node.taints,
      nodes: new NodeSet(),
    }));
    const groupKey = this.move(
      this.groupsByKey,
      JSON.stringify([node.pool ?? null, node.status]),
      old?.groupKey,
      slot,
      (key) => ({ key, ...(node.pool ? { pool: node.pool } : {}), status: node.status, nodes: new NodeSet() }),
    );
    const taintsChanged = taintKey !== old?.taintKey;
    const groupChanged = groupKey !== old?.groupKey;
    let cls = old?.cls;
    if (labelsChanged || taintsChanged || groupChanged) {
      this.version++;
      const labels = labelsChanged ? sharedLabels(node.labels) : old!.cls.labels;
      const labelsKey = labelsChanged ? JSON.stringify(labels) : old!.cls.labelsKey;
      // NUL cannot appear raw in JSON text: the three parts cannot run into each other.
      const classKey = `${labelsKey}\u0000${taintKey}\u0000${groupKey}`;
      cls = this.classesByKey.get(classKey);
      if (!cls) {
        cls = new MutableClass(classKey, labelsKey, this.nextClassId++, labels, node.taints, node.status, node.pool);
        this.classesByKey.set(classKey, cls);
        this.classList = undefined;
      }
      if (old && old.cls !== cls) this.leaveClass(old.cls, name);
      cls.add(name);
    }
    this.entries.set(name, { slot, node, taintKey, groupKey, cls: cls! });
  }

  delete(name: string): void {
    const old = this.entries.get(name);
    if (!old) return;
    this.version++;
    const { slot } = old;
    for (const [k, v] of Object.entries(old.node.labels)) this.unlabel(slot, k, v, false);
    this.leave(this.taintSetsByKey, old.taintKey, slot);
    this.leave(this.groupsByKey, old.groupKey, slot);
    this.leaveClass(old.cls, name);
    this.all.delete(slot);
    this.entries.delete(name);
    this.slotNames[slot] = undefined;
    this.freeSlots.push(slot);
  }

  private unlabel(slot: number, key: string, value: string, keepKey: boolean): void {
    const byValue = this.byLabel.get(key)!;
    const set = byValue.get(value)!;
    set.delete(slot);
    if (set.size === 0) byValue.delete(value);
    if (keepKey) return;
    const withKey = this.byKey.get(key)!;
    withKey.delete(slot);
    if (withKey.size === 0) {
      this.byKey.delete(key);
      this.byLabel.delete(key);
    }
  }

  /**
   * Puts the slot in the set of `key` (made if new), out of the one of `oldKey`, and returns the key string the set
   * keeps: 10,000 entries then hold a few keys, not 10,000 copies.
   */
  private move<S extends { key: string; nodes: NodeSet }>(
    map: Map<string, S>,
    key: string,
    oldKey: string | undefined,
    slot: number,
    make: (key: string) => S,
  ): string {
    if (key === oldKey) return oldKey;
    if (oldKey !== undefined) this.leave(map, oldKey, slot);
    const set = entryOf(map, key, () => make(key));
    set.nodes.add(slot);
    return set.key;
  }

  private leave(map: Map<string, { nodes: NodeSet }>, key: string, slot: number): void {
    const set = map.get(key)!;
    set.nodes.delete(slot);
    if (set.nodes.size === 0) map.delete(key);
  }

  private leaveClass(cls: MutableClass, name: string): void {
    cls.delete(name);
    if (cls.members.size > 0) return;
    this.classesByKey.delete(cls.key);
    this.classList = undefined;
  }

  /** The node classes, in the order they first appeared (name order when the index was filled in name order). */
  get classes(): readonly NodeClass[] {
    return (this.classList ??= [...this.classesByKey.values()].sort((a, b) => a.id - b.id));
  }

  classOf(name: string): NodeClass | undefined {
    return this.entries.get(name)?.cls;
  }

  slotOf(name: string): number | undefined {
    return this.entries.get(name)?.slot;
  }

  nameOf(slot: number): string {
    return this.slotNames[slot]!;
  }

  /** Nodes whose label `key` is `value`. */
  labelled(key: string, value: string): Members | undefined {
    return this.byLabel.get(key)?.get(value)?.members();
  }

  /** Nodes that have the label `key`. */
  withLabel(key: string): Members | undefined {
    return this.byKey.get(key)?.members();
  }

  /** Every value of label `key` with its nodes. */
  *labelValues(key: string): Generator<[string, Members]> {
    for (const [value, set] of this.byLabel.get(key) ?? []) yield [value, set.members()];
  }

  taintSets(): Iterable<TaintSet> {
    return this.taintSetsByKey.values();
  }

  statusGroups(): Iterable<StatusGroup> {
    return this.groupsByKey.values();
  }
}
