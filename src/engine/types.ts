import type { ClusterSnapshot } from '../cluster/snapshot.js';
import type { Enforcement, Policy } from '../policy/types.js';

export type { Enforcement };

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';


export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ apiVersion?: string; kind?: string; name?: string; controller?: boolean }>;
  [key: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: unknown;
  [key: string]: unknown;
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** RFC 6902 operation, as sent base64-encoded in an AdmissionResponse. */
export type JsonPatchOp =
  | { op: 'add' | 'replace' | 'test'; path: string; value: unknown }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; from: string; path: string };

/** What the three front doors (server, check, audit) hand the engine for one object. */
export interface EngineRequest {
  object: KubeObject | null;
  oldObject: KubeObject | null;
  operation: Operation;
  gvk: GroupVersionKind;
  /** '' for cluster-scoped objects. */
  namespace: string;
  dryRun: boolean;
}

/** Everything a rule may read. Rules are pure: no network, clock or environment beyond this. */
export interface RuleInput extends EngineRequest {
  snapshot: ClusterSnapshot;
  policy: Policy;
}

/**
 * What a rule says about one object.
 * - `violation`: the rule's check failed; the policy's enforcement for the rule decides deny / warn / audit.
 * - `advisory`: worth a warning whatever the enforcement (unless the rule is in audit mode).
 * `message` is the full explanation (denial text, audit log, `check` output): it names the rule, the object,
 * what is wrong and how to fix it. `summary` is the one-line warning kubectl prints (kept under 120 chars).
 */
export interface Finding {
  severity: 'violation' | 'advisory';
  message: string;
  summary: string;
}

export interface RuleVerdict {
  findings: Finding[];
  patch: JsonPatchOp[];
  /** Extra audit annotations (value only; the key is the rule ID, suffixed when a rule sets several). */
  annotations: Record<string, string>;
}

/** Which objects a rule reads. The same list feeds the webhook configurations in deploy/. */
export interface RuleMatch {
  group: string;
  kinds: Array<{ kind: string; resource: string }>;
  versions: string[];
  operations: Operation[];
}

export interface Rule {
  id: string;
  description: string;
  /** Mutating rules run on POST /mutate (and may also deny); validating rules on POST /validate. */
  phase: 'validate' | 'mutate';
  defaultEnforcement: Enforcement;
  matches: RuleMatch[];
  evaluate(input: RuleInput): RuleVerdict;
}

export type RuleDecision = 'allow' | 'deny' | 'warn' | 'audit' | 'error';

/** One rule's outcome after enforcement, as logged in the audit line. */
export interface RuleOutcome {
  rule: string;
  decision: RuleDecision;
  enforcement: Enforcement;
  messages: string[];
  patched: boolean;
}

export interface Decision {
  allowed: boolean;
  /** Denial text listing every failing rule; empty when allowed. */
  message: string;
  warnings: string[];
  patch: JsonPatchOp[];
  auditAnnotations: Record<string, string>;
  results: RuleOutcome[];
  /** Why no rule ran, when none did (kind not watched, excluded namespace, no SCTP). */
  skipped?: string;
}
