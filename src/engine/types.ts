import type { KindName } from '../cluster/records.js';
import type { ClusterSnapshot } from '../cluster/snapshot.js';
import type { ParameterDeclaration } from '../policy/parameters.js';
import type { Enforcement, Policy } from '../policy/types.js';

export type { Enforcement };

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{
    apiVersion?: string;
    kind?: string;
    name?: string;
    uid?: string;
    controller?: boolean;
    blockOwnerDeletion?: boolean;
  }>;
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
  /** The requester (AdmissionRequest userInfo.username); serve only: check and audit read objects, not requests. */
  username?: string;
}

/** Everything a rule may read. Rules are pure: no network, clock or environment beyond this. */
export interface RuleInput extends EngineRequest {
  snapshot: ClusterSnapshot;
  policy: Policy;
}

/**
 * What a rule says about one object. The rule says what is wrong and how to fix it; the engine names the rule and
 * the object (`[rule-id] Kind ns/name: `) once for every rule.
 * - `violation`: the rule's check failed; the policy's enforcement for the rule decides deny / warn / audit.
 * - `advisory`: worth a warning whatever the enforcement (unless the rule is in audit mode).
 */
export interface Finding {
  severity: 'violation' | 'advisory';
  /** What is wrong, as whole sentences (each ending with a period). */
  text: string;
  /** How to fix it: written after the text as ` Fix: <fix>.` */
  fix?: string;
  /** A closing sentence after the fix: what the verdict was measured against (a target version, a policy setting). */
  context?: string;
  /** The one-line warning kubectl prints (the whole line, prefix included, is cut at 120 characters). */
  summary: string;
  /** JSON Pointer of the field the finding is about, when there is one (`check` points at its line). */
  path?: string;
  /**
   * The finding exists because it is unknown whether the nodes carry SCTP: the policy's `unknownNodeState`
   * decides what becomes of it (allow: an audit annotation only; warn: an advisory; deny: the severity above).
   */
  unknownNodeState?: boolean;
  /**
   * UPDATE ratcheting: what makes this the same problem as one `oldObject` already has, compared by value
   * (`isDeepStrictEqual`). Left out, the summary and the value at `path` (an unchanged field keeps its problem, as
   * Kubernetes ratchets).
   */
  ratchetKey?: unknown;
  /** The summary when the problem is already on `oldObject` and the engine softens it to an advisory. */
  existingSummary?: string;
}

/** A finding as the engine reports it: the message composed once, and its parts for outputs that print them apart. */
export interface Message {
  /** `[rule-id] Kind ns/name: text Fix: fix. context`: the denial text, the audit log line. */
  message: string;
  /** The message without its `[rule-id] Kind ns/name: ` prefix. */
  detail: string;
  /** The one-line warning, prefix included. */
  summary: string;
  fix?: string;
  path?: string;
}

export interface Verdict {
  findings: Finding[];
  /**
   * A mutating rule's change: it edits a copy of the object in place, and the engine computes the JSON Patch from
   * the difference (as controller-runtime's defaulters and Pepr's mutations do), so a patch never disagrees with it.
   */
  edit?: (object: KubeObject) => void;
  /** Extra audit annotations (value only; the key is the rule ID, suffixed when a rule sets several). */
  annotations: Record<string, string>;
}

/** A field as path segments; `*` is every element of a list; a leading `podSpec` is the kind's pod spec. */
export type FieldPath = readonly string[];

/**
 * Which objects a rule reads (build it from the kinds registry with `matchKinds`). The same declaration feeds the
 * engine's index, `audit`'s list and the webhook configurations in deploy/, including their `matchConditions`.
 */
export interface RuleMatch {
  group: string;
  kinds: Array<{ kind: string; resource: string }>;
  versions: string[];
  operations: Operation[];
  /**
   * The fields the rule's verdict depends on, when it has something to say only about objects where one of them
   * is `SCTP`: the API server then sends only those objects. Leave it out when the rule reads anything else (every
   * object of the kinds is sent): a wrong declaration silently hides objects from the rule.
   */
  sctpFields?: readonly FieldPath[];
}

/**
 * The same check in CEL, for a rule that reads nothing but the object (no cluster state): `export vap` makes a
 * ValidatingAdmissionPolicy of each check, and a property test holds the CEL to `evaluate`.
 */
export interface CelCheck {
  /** Appended to the policy name; '' for the rule's main check. */
  name: string;
  /** A `violation` follows the rule's enforcement; an `advisory` is a warning whatever it is (audit stays audit). */
  severity: 'violation' | 'advisory';
  /** CEL: true when the object passes. */
  expression: string;
  /** CEL string expressions equal to the finding's parts; the generator writes the prefix as the engine does. */
  text: string;
  fix?: string;
  summary: string;
}

export interface RuleCel {
  /** VAP variables (`variables.<name>` in the expressions), evaluated in order. */
  variables: Array<{ name: string; expression: string }>;
  checks: CelCheck[];
}

export interface Rule {
  id: string;
  description: string;
  /** Mutating rules run on POST /mutate (and may also deny); validating rules on POST /validate. */
  phase: 'validate' | 'mutate';
  defaultEnforcement: Enforcement;
  matches: RuleMatch[];
  /**
   * The rule's own fields of the policy file, as JSON-schema fragments with defaults and what each preset sets
   * (`ruleParameters`); merged into the policy schema, read typed in `evaluate` with `PARAMETERS.of(policy)`.
   */
  parameters?: ParameterDeclaration;
  /**
   * The cluster data `evaluate` reads from the snapshot, by the kind it comes from. The informers watch, and the
   * offline loader loads, only what the rules declare (`clusterDataOf`), and the RBAC in deploy/ grants exactly
   * that; a test holds each rule's verdicts on snapshots of only its declared kinds to its verdicts on whole ones.
   */
  clusterData?: readonly KindName[];
  evaluate(input: RuleInput): Verdict;
  /** Present on rules that need no cluster state: the check in CEL under `policy`. */
  cel?(policy: Policy): RuleCel;
}

export type RuleAction = 'allow' | 'deny' | 'warn' | 'audit' | 'error';

/** One rule's outcome after enforcement, as logged in the audit line. */
export interface RuleDecision {
  rule: string;
  decision: RuleAction;
  enforcement: Enforcement;
  findings: Message[];
  patched: boolean;
}

export interface Decision {
  allowed: boolean;
  /** Denial text listing every failing rule; empty when allowed. */
  message: string;
  warnings: string[];
  patch: JsonPatchOp[];
  /** The object as the patch leaves it, when there is a patch and it applies. */
  patchedObject?: KubeObject;
  /** Why several rules' patches do not apply together, when they do not (the API server would refuse the request). */
  patchError?: string;
  auditAnnotations: Record<string, string>;
  results: RuleDecision[];
  /** Why no rule ran, when none did (kind not watched, excluded namespace, no SCTP). */
  skipped?: string;
}
