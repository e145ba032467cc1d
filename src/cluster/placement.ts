import type { Policy } from '../policy/types.js';
import { isRecord, own } from '../util/json.js';
import { matchesRequirement } from './selectors.js';
import type { ClusterSnapshot, LabelSelectorRequirement, NodeClass, SctpStatus, Taint } from './snapshot.js';
import { PER_NODE_LABELS } from './state.js';

/**
 * Which nodes a pod can land on, answered per node class (see snapshot.ts), so the cost follows the number of
 * classes and of names in the pod's constraints, never the number of nodes. Semantics follow the scheduler's
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

/** A class and how many of its nodes qualify: all, only `names`, or all but `excluded` (never copied: O(names)). */
export interface Candidate {
  cls: NodeClass;
  count: number;
  names?: readonly string[];
  excluded?: ReadonlySet<string>;
}

/** The qualifying node names of a candidate, lazily, for samples in messages. */
export function* candidateNames(c: Candidate): Generator<string> {
  for (const n of c.names ?? c.cls.nodes) if (!c.excluded?.has(n)) yield n;
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

/** Which members of one class a constraint keeps: all, only some names, or all except some names. */
type Selection = { all: true } | { only: Set<string> } | { except: Set<string> };
const ALL: Selection = { all: true };
const NONE = (): Selection => ({ only: new Set() });

function and(a: Selection, b: Selection): Selection {
  if ('all' in a) return b;
  if ('all' in b) return a;
  if ('only' in a && 'only' in b) return { only: new Set([...a.only].filter((n) => b.only.has(n))) };
  if ('only' in a && 'except' in b) return { only: new Set([...a.only].filter((n) => !b.except.has(n))) };
  if ('except' in a && 'only' in b) return and(b, a);
  const ea = (a as { except: Set<string> }).except;
  const eb = (b as { except: Set<string> }).except;
  return { except: new Set([...ea, ...eb]) };
}

function or(a: Selection, b: Selection): Selection {
  if ('all' in a || 'all' in b) return ALL;
  if ('only' in a && 'only' in b) return { only: new Set([...a.only, ...b.only]) };
  if ('except' in a && 'only' in b) return { except: new Set([...a.except].filter((n) => !b.only.has(n))) };
  if ('only' in a && 'except' in b) return or(b, a);
  const ea = (a as { except: Set<string> }).except;
  const eb = (b as { except: Set<string> }).except;
  return { except: new Set([...ea].filter((n) => eb.has(n))) };
}

/** The nodes of `cls` among `names`, by the name index (cost follows the names, not the class). */
function inClass(snapshot: ClusterSnapshot, cls: NodeClass, names: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const n of names) if (snapshot.nodeClass.get(n) === cls.id) out.add(n);
  return out;
}

function requirementSelection(
  snapshot: ClusterSnapshot,
  cls: NodeClass,
  req: LabelSelectorRequirement,
  field = false,
): Selection {
  if (field || PER_NODE_LABELS.includes(req.key)) {
    if (field && req.key !== 'metadata.name') return NONE();
    const index = field ? undefined : snapshot.perNodeLabels.get(req.key);
    const named = (values: readonly string[]) =>
      inClass(
        snapshot,
        cls,
        values.flatMap((v) => (field ? [v] : [...(index?.get(v) ?? [])])),
      );
    switch (req.operator) {
      case 'In':
        return { only: named(req.values ?? []) };
      case 'NotIn':
        return { except: named(req.values ?? []) };
      case 'Exists':
        return field ? NONE() : ALL;
      default:
        return NONE();
    }
  }
  return matchesRequirement(own(cls.labels, req.key), req) ? ALL : NONE();
}

function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if ((t.operator ?? 'Equal') === 'Exists') return !t.key || t.key === taint.key;
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}

/** Whether every taint of the class that repels pods is tolerated; `nodeName` bypasses the scheduler's NoSchedule. */
function toleratesClass(cls: NodeClass, tolerations: readonly Toleration[], skipNoSchedule: boolean): boolean {
  return cls.taints.every(
    (taint) => (skipNoSchedule && taint.effect === 'NoSchedule') || tolerations.some((t) => tolerates(t, taint)),
  );
}

function classSelection(snapshot: ClusterSnapshot, cls: NodeClass, p: PodPlacement): Selection {
  if (!toleratesClass(cls, p.tolerations, p.nodeName !== undefined)) return NONE();
  let sel: Selection = p.nodeName !== undefined ? { only: inClass(snapshot, cls, [p.nodeName]) } : ALL;
  for (const [key, value] of Object.entries(p.nodeSelector))
    sel = and(sel, requirementSelection(snapshot, cls, { key, operator: 'In', values: [value] }));
  if (p.terms) {
    let any: Selection = NONE();
    for (const term of p.terms) {
      // An empty term matches nothing (component-helpers nodeaffinity: a term without requirements is invalid).
      if (term.matchExpressions.length === 0 && term.matchFields.length === 0) continue;
      let t: Selection = ALL;
      for (const r of term.matchExpressions) t = and(t, requirementSelection(snapshot, cls, r));
      for (const r of term.matchFields) t = and(t, requirementSelection(snapshot, cls, r, true));
      any = or(any, t);
    }
    sel = and(sel, any);
  }
  return sel;
}

/** The node classes a pod with these constraints can be scheduled on, with how many nodes of each. */
export function podCandidates(snapshot: ClusterSnapshot, placement: PodPlacement): Candidate[] {
  const out: Candidate[] = [];
  for (const cls of snapshot.classes) {
    const sel = classSelection(snapshot, cls, placement);
    if ('all' in sel) out.push({ cls, count: cls.nodes.length });
    else if ('only' in sel) {
      if (sel.only.size > 0) out.push({ cls, count: sel.only.size, names: [...sel.only].sort() });
    } else {
      const excluded = inClass(snapshot, cls, sel.except);
      if (excluded.size < cls.nodes.length) {
        out.push({ cls, count: cls.nodes.length - excluded.size, ...(excluded.size > 0 ? { excluded } : {}) });
      }
    }
  }
  return out;
}

/** Every node: what a Service's endpoints or a NetworkPolicy could involve at most. */
export function allCandidates(snapshot: ClusterSnapshot): Candidate[] {
  return snapshot.classes.map((cls) => ({ cls, count: cls.nodes.length }));
}

/** The nodes an ordinary pod (no selector, no tolerations) can land on, or every node when none can. */
export function workloadCandidates(snapshot: ClusterSnapshot): Candidate[] {
  const open = snapshot.classes.filter((c) => c.taints.length === 0).map((cls) => ({ cls, count: cls.nodes.length }));
  return open.length > 0 ? open : allCandidates(snapshot);
}

/**
 * A class's SCTP state under the policy: the node label the policy names decides when set (an NFD
 * NodeFeatureRule on kernel.loadedmodule, or labels set by hand); otherwise the rendered MachineConfig.
 */
export function effectiveStatus(cls: NodeClass, policy: Pick<Policy, 'sctpNodeLabel'>): SctpStatus {
  const label = policy.sctpNodeLabel;
  if (!label) return cls.machineConfig;
  const value = own(cls.labels, label.key);
  const has = label.value === undefined ? value !== undefined : value === label.value;
  const text = label.value === undefined ? label.key : `${label.key}=${label.value}`;
  return has
    ? { state: 'ready', reason: `node label ${text}` }
    : { state: 'not-ready', reason: `no node label ${text}` };
}
