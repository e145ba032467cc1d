import type { Policy } from '../policy/types.js';
import { isRecord, own } from '../util/json.js';
import type { NodeIndex } from './node-index.js';
import {
  firstSlots,
  intersect,
  intersectionSize,
  minus,
  NO_MEMBERS,
  union,
  type Members,
  type NodeSet,
} from './node-sets.js';
import { matchesRequirement } from './selectors.js';
import type { LabelSelectorRequirement, NodeClass, SctpStatus, Taint } from './snapshot.js';

/**
 * Which nodes a pod can land on, answered by set operations over the node index (node-index.ts), so the cost
 * follows the pod's constraints, never the number of nodes. Semantics follow the scheduler's
 * filters NodeName, NodeAffinity (nodeSelector AND required affinity; terms ORed, requirements ANDed) and
 * TaintToleration (k8s.io/component-helpers scheduling/corev1, kubernetes pkg/scheduler/framework/plugins).
 */

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

export interface NodeSelectorTerm {
  matchExpressions: LabelSelectorRequirement[];
  matchFields: LabelSelectorRequirement[];
}

export interface PodPlacement {
  nodeName?: string;
  nodeSelector: Record<string, string>;
  /** Required node affinity terms (ORed); undefined when the pod has none. */
  terms?: NodeSelectorTerm[];
  tolerations: Toleration[];
}

/**
 * Tolerations the DaemonSet controller adds to every daemon pod
 * (kubernetes pkg/controller/daemon/util/daemonset_util.go AddOrUpdateDaemonPodTolerations).
 */
const DAEMONSET_TOLERATIONS: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];
const HOST_NETWORK_TOLERATION: Toleration = {
  key: 'node.kubernetes.io/network-unavailable',
  operator: 'Exists',
  effect: 'NoSchedule',
};

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function requirements(value: unknown): LabelSelectorRequirement[] {
  return (Array.isArray(value) ? value : [])
    .filter(isRecord)
    .map((r) => ({ key: String(r.key ?? ''), operator: String(r.operator ?? ''), values: strings(r.values) }));
}

/** The scheduling constraints of a pod spec; `daemonSet` adds the controller's own tolerations. */
export function podPlacement(podSpec: Record<string, unknown>, daemonSet = false): PodPlacement {
  const nodeSelector: Record<string, string> = {};
  if (isRecord(podSpec.nodeSelector)) {
    for (const [k, v] of Object.entries(podSpec.nodeSelector)) if (typeof v === 'string') nodeSelector[k] = v;
  }
  const tolerations: Toleration[] = (Array.isArray(podSpec.tolerations) ? podSpec.tolerations : [])
    .filter(isRecord)
    .map((t) => ({
      ...(typeof t.key === 'string' ? { key: t.key } : {}),
      ...(typeof t.operator === 'string' ? { operator: t.operator } : {}),
      ...(typeof t.value === 'string' ? { value: t.value } : {}),
      ...(typeof t.effect === 'string' ? { effect: t.effect } : {}),
    }));
  if (daemonSet)
    tolerations.push(...DAEMONSET_TOLERATIONS, ...(podSpec.hostNetwork === true ? [HOST_NETWORK_TOLERATION] : []));
  const affinity =
    isRecord(podSpec.affinity) && isRecord(podSpec.affinity.nodeAffinity) ? podSpec.affinity.nodeAffinity : undefined;
  const required =
    affinity && isRecord(affinity.requiredDuringSchedulingIgnoredDuringExecution)
      ? affinity.requiredDuringSchedulingIgnoredDuringExecution
      : undefined;
  const rawTerms =
    required && Array.isArray(required.nodeSelectorTerms) ? required.nodeSelectorTerms.filter(isRecord) : undefined;
  return {
    ...(typeof podSpec.nodeName === 'string' && podSpec.nodeName !== '' ? { nodeName: podSpec.nodeName } : {}),
    nodeSelector,
    ...(rawTerms && rawTerms.length > 0
      ? {
          terms: rawTerms.map((t) => ({
            matchExpressions: requirements(t.matchExpressions),
            matchFields: requirements(t.matchFields),
          })),
        }
      : {}),
    tolerations,
  };
}

/**
 * The nodes a constraint keeps: all of them, only some, or all but some. Complements stay symbolic, so a
 * `NotIn` or a toleration that excludes three masters costs what those three cost.
 */
export type Selection = { all: true } | { only: Members } | { except: Members };
export const ALL_NODES: Selection = { all: true };
const NONE: Selection = { only: NO_MEMBERS };

/** Nodes both selections keep. */
export function both(a: Selection, b: Selection): Selection {
  if ('all' in a) return b;
  if ('all' in b) return a;
  if ('only' in a && 'only' in b) return { only: intersect(a.only, b.only) };
  if ('only' in a && 'except' in b) return { only: minus(a.only, b.except) };
  if ('except' in a && 'only' in b) return both(b, a);
  const ea = (a as { except: Members }).except;
  const eb = (b as { except: Members }).except;
  return { except: union(ea, eb) };
}

function or(a: Selection, b: Selection): Selection {
  if ('all' in a || 'all' in b) return ALL_NODES;
  if ('only' in a && 'only' in b) return { only: union(a.only, b.only) };
  if ('except' in a && 'only' in b) return { except: minus(a.except, b.only) };
  if ('only' in a && 'except' in b) return or(b, a);
  const ea = (a as { except: Members }).except;
  const eb = (b as { except: Members }).except;
  return { except: intersect(ea, eb) };
}

/** The nodes named (matchFields metadata.name, spec.nodeName), through the name index. */
function named(nodes: NodeIndex, names: readonly string[]): Members {
  const slots = names.map((n) => nodes.slotOf(n)).filter((s): s is number => s !== undefined);
  return slots.length <= 1 ? { slots } : union({ slots: [] }, { slots });
}

/** Every value of `key` that satisfies `req` (Gt, Lt), unioned: cost follows the label's distinct values. */
function matchingValues(nodes: NodeIndex, req: LabelSelectorRequirement): Members {
  let out = NO_MEMBERS;
  for (const [value, members] of nodes.labelValues(req.key))
    if (matchesRequirement(value, req)) out = union(out, members);
  return out;
}

/**
 * One requirement as a set over the label index, with matchesRequirement's semantics (selectors.ts): `NotIn` and
 * `DoesNotExist` keep the nodes without the label. A matchFields requirement reads metadata.name only.
 */
function requirementSelection(nodes: NodeIndex, req: LabelSelectorRequirement, field = false): Selection {
  const values = req.values ?? [];
  if (field) {
    if (req.key !== 'metadata.name') return NONE;
    if (req.operator === 'In') return { only: named(nodes, values) };
    return req.operator === 'NotIn' ? { except: named(nodes, values) } : NONE;
  }
  const ofValues = () =>
    values.reduce((acc, v) => union(acc, nodes.labelled(req.key, v) ?? NO_MEMBERS), NO_MEMBERS as Members);
  switch (req.operator) {
    case 'In':
      return { only: ofValues() };
    case 'NotIn':
      return { except: ofValues() };
    case 'Exists':
      return { only: nodes.withLabel(req.key) ?? NO_MEMBERS };
    case 'DoesNotExist':
      return { except: nodes.withLabel(req.key) ?? NO_MEMBERS };
    case 'Gt':
    case 'Lt':
      return { only: matchingValues(nodes, req) };
    default:
      return NONE;
  }
}

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if ((t.operator ?? 'Equal') === 'Exists') return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}

/** Whether every taint that repels pods is tolerated; `nodeName` bypasses the scheduler's NoSchedule. */
export function toleratesAll(taints: readonly Taint[], tolerations: readonly Toleration[], skipNoSchedule: boolean) {
  return taints.every(
    (taint) => (skipNoSchedule && taint.effect === 'NoSchedule') || tolerations.some((t) => tolerates(t, taint)),
  );
}

/** The nodes whose taints the pod tolerates: all but the (usually few) nodes of the taint sets it does not. */
function tolerated(nodes: NodeIndex, tolerations: readonly Toleration[], skipNoSchedule: boolean): Selection {
  let repelled = NO_MEMBERS;
  for (const set of nodes.taintSets())
    if (!toleratesAll(set.taints, tolerations, skipNoSchedule)) repelled = union(repelled, set.nodes.members());
  return { except: repelled };
}

/**
 * The nodes a pod with these constraints can be scheduled on, by set operations over the node index: the cost
 * follows the constraints and the sets they name, never the number of nodes or node classes.
 */
export function podSelection(nodes: NodeIndex, p: PodPlacement): Selection {
  let sel = tolerated(nodes, p.tolerations, p.nodeName !== undefined);
  if (p.nodeName !== undefined) sel = both(sel, { only: named(nodes, [p.nodeName]) });
  for (const [key, value] of Object.entries(p.nodeSelector))
    sel = both(sel, requirementSelection(nodes, { key, operator: 'In', values: [value] }));
  if (p.terms) {
    let any: Selection = NONE;
    for (const term of p.terms) {
      // An empty term matches nothing (component-helpers nodeaffinity: a term without requirements is invalid).
      if (term.matchExpressions.length === 0 && term.matchFields.length === 0) continue;
      let t: Selection = ALL_NODES;
      for (const r of term.matchExpressions) t = both(t, requirementSelection(nodes, r));
      for (const r of term.matchFields) t = both(t, requirementSelection(nodes, r, true));
      any = or(any, t);
    }
    sel = both(sel, any);
  }
  return sel;
}

/** The nodes an ordinary pod (no selector, no tolerations) can land on, or every node when none can. */
export function workloadSelection(nodes: NodeIndex): Selection {
  for (const set of nodes.taintSets()) if (set.taints.length === 0) return { only: set.nodes.members() };
  return ALL_NODES;
}

/** How many of `within` the selection keeps. */
export function selectedCount(sel: Selection, within: NodeSet): number {
  if ('all' in sel) return within.size;
  if ('only' in sel) return intersectionSize(sel.only, within.members());
  return within.size - intersectionSize(sel.except, within.members());
}

/** Up to `limit` names of the nodes of `within` the selection keeps, in slot order (name order as loaded). */
export function selectedNames(nodes: NodeIndex, sel: Selection, within: NodeSet, limit = Infinity): string[] {
  const members = within.members();
  const slots =
    'only' in sel
      ? firstSlots(sel.only, members, undefined, limit)
      : firstSlots(members, members, 'all' in sel ? undefined : sel.except, limit);
  return slots.map((s) => nodes.nameOf(s));
}

/**
 * A class's SCTP state under the policy: the node label the policy names decides when set (an NFD
 * NodeFeatureRule on kernel.loadedmodule, or labels set by hand); otherwise the rendered MachineConfig.
 */
export function effectiveStatus(cls: NodeClass, policy: Pick<Policy, 'sctpNodeLabel'>): SctpStatus {
  const label = policy.sctpNodeLabel;
  if (!label) return cls.machineConfig;
  const value = own(cls.labels, label.key);
  return labelStatus(label, label.value === undefined ? value !== undefined : value === label.value);
}

/** The SCTP state the policy's node label gives a node that has it (or not). */
export function labelStatus(label: NonNullable<Policy['sctpNodeLabel']>, labelled: boolean): SctpStatus {
  const text = label.value === undefined ? label.key : `${label.key}=${label.value}`;
  return labelled
    ? { state: 'ready', reason: `node label ${text}` }
    : { state: 'not-ready', reason: `no node label ${text}` };
}
