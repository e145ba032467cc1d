import type { ClusterSnapshot } from '../cluster/snapshot.js';
import type { Policy } from '../policy/types.js';
import jsonpatch from 'fast-json-patch';
import { namespaceMatcher } from '../policy/namespaces.js';
import { cloneJson } from '../util/json.js';
import { podSpecPath } from '../util/kinds.js';
import type {
  Decision,
  Enforcement,
  EngineRequest,
  FieldPath,
  Finding,
  JsonPatchOp,
  KubeObject,
  Operation,
  Message,
  Rule,
  RuleInput,
  RuleDecision,
  Verdict,
} from './types.js';
import { platformOwnedReason } from './platform-owned.js';
import { ratchet } from './ratchet.js';
import { enforcementOf } from './request.js';
import { hasSctpAt } from './sctp-fields.js';
import { settleUnknownNodeState } from './unknown-node-state.js';
import { composeFinding, messagePrefix, oneLine } from './verdict.js';

export type { EngineRequest };

export type Phase = 'validate' | 'mutate';

/** The API server cuts warnings past 4096 characters per request. */
const WARNINGS_BUDGET = 4096;

interface EnabledRule {
  rule: Rule;
  enforcement: Enforcement;
  /** The rule's `sctpFields` for this kind (podSpec resolved): it has nothing to say when none is SCTP. */
  sctpPaths?: readonly FieldPath[];
  /** Its outcome when it has nothing to say, built once. */
  allow: RuleDecision;
}

/** The enabled rules of one phase, group and kind, by operation. */
type KindRules = Map<Operation, EnabledRule[]>;

/**
 * The rule engine: picks the enabled rules that match a request's kind and operation, runs them, applies each
 * rule's enforcement and merges the verdicts (a deny wins; patches and warnings are concatenated), the way
 * controller-runtime's multi handlers compose.
 */
export class Engine {
  /** Everything a decision looks up that depends only on the rules and the policy, worked out here once. */
  /**
   * Phase → group → kind: three lookups of the request's own strings (a joined key was a new string to build and
   * hash per request, the largest line of evaluate's own time).
   */
  private readonly index: Record<Phase, Map<string, Map<string, KindRules>>> = {
    validate: new Map(),
    mutate: new Map(),
  };
  private readonly excluded: (namespace: string) => boolean;

  constructor(
    readonly rules: readonly Rule[],
    readonly policy: Policy,
  ) {
    for (const rule of rules) {
      const enforcement = enforcementOf(rule, policy);
      if (enforcement === 'off') continue;
      const allow: RuleDecision = Object.freeze({
        rule: rule.id,
        decision: 'allow',
        enforcement,
        findings: Object.freeze([]) as unknown as Message[],
        patched: false,
      });
      for (const m of rule.matches) {
        for (const { kind } of m.kinds) {
          const byKind = this.index[rule.phase].get(m.group) ?? new Map<string, KindRules>();
          this.index[rule.phase].set(m.group, byKind);
          const byOperation = byKind.get(kind) ?? new Map<Operation, EnabledRule[]>();
          byKind.set(kind, byOperation);
          const sctpPaths = m.sctpFields?.map((p) =>
            p[0] === 'podSpec' ? [...(podSpecPath(kind) ?? []), ...p.slice(1)] : p,
          );
          for (const op of m.operations) {
            const list = byOperation.get(op) ?? [];
            if (!list.some((e) => e.rule === rule))
              list.push({ rule, enforcement, ...(sctpPaths ? { sctpPaths } : {}), allow });
            byOperation.set(op, list);
          }
        }
      }
    }
    this.excluded = namespaceMatcher(policy.excludedNamespaces);
  }

  /** Whether any enabled rule of the phase reads this kind: the fast path for everything else. */
  watches(phase: Phase, group: string, kind: string): boolean {
    return this.index[phase].get(group)?.has(kind) ?? false;
  }

  isExcludedNamespace(namespace: string): boolean {
    return namespace !== '' && this.excluded(namespace);
  }

  evaluate(req: EngineRequest, snapshot: ClusterSnapshot, phase: Phase): Decision {
    // First, so that both phases (and check, audit) say why the platform's own objects pass.
    const owned = platformOwnedReason(req);
    if (owned !== undefined) return skipped(owned);
    const candidates = this.index[phase].get(req.gvk.group)?.get(req.gvk.kind);
    if (!candidates) return skipped(`no ${phase} rule reads ${req.gvk.kind}`);
    if (this.isExcludedNamespace(req.namespace)) return skipped(`namespace ${req.namespace} is excluded by the policy`);
    const applicable = candidates.get(req.operation);
    if (!applicable) return skipped(`no ${phase} rule reads ${req.operation} of ${req.gvk.kind}`);
    // One input for every rule of the request; a rule whose SCTP fields hold no SCTP is not run (the webhook's
    // matchConditions would not even have sent the object to it): its outcome is the allow built in advance.
    let input: RuleInput | undefined;
    const subject = req.operation === 'DELETE' ? req.oldObject : req.object;

    const results: RuleDecision[] = [];
    const denials: string[] = [];
    const warnings: string[] = [];
    const patch: JsonPatchOp[] = [];
    /** The objects the patching rules' edits left, one per rule that contributed to the patch. */
    const edited: KubeObject[] = [];
    const auditAnnotations: Record<string, string> = {};

    for (const { rule, enforcement, sctpPaths, allow } of applicable) {
      if (sctpPaths && !hasSctpAt(subject, sctpPaths)) {
        results.push(allow);
        continue;
      }
      input ??= ruleInput(req, snapshot, this.policy);
      const result = this.run(rule, input);
      const outcome = applyEnforcement(rule.id, enforcement, result, this.policy.failureMode);
      results.push(outcome.result);
      if (outcome.deny) denials.push(...outcome.result.findings.map((f) => f.message));
      warnings.push(...outcome.warnings);
      if (phase === 'mutate' && outcome.result.patched && !(result instanceof RuleFailure)) {
        patch.push(...result.patch);
        if (result.patched) edited.push(result.patched);
      }
      if (outcome.result.decision !== 'allow') {
        auditAnnotations[rule.id] = oneLine(
          `${outcome.result.decision}: ${outcome.result.findings[0]?.message ?? 'patched'}`,
        );
      }
      if (!(result instanceof RuleFailure))
        for (const suffix of Object.keys(result.annotations))
          auditAnnotations[`${rule.id}-${suffix}`] = result.annotations[suffix]!;
    }

    const allowed = denials.length === 0;
    const decision: Decision = {
      allowed,
      message: allowed ? '' : denials.join('\n'),
      warnings: budgetWarnings(warnings),
      patch: allowed ? patch : [],
      auditAnnotations,
      results,
    };
    if (decision.patch.length > 0) {
      // One rule's patch leaves the object its edit made; several are applied in order, as the API server would.
      const applied = edited.length === 1 ? { object: edited[0]! } : applyJsonPatch(subject, decision.patch);
      if ('object' in applied) decision.patchedObject = applied.object;
      else decision.patchError = applied.error;
    }
    return decision;
  }

  /** A rule that throws is that rule's failure, never the server's: the error becomes its outcome. */
  private run(rule: Rule, input: RuleInput): ComposedVerdict | RuleFailure {
    try {
      return evaluateRule(rule, input);
    } catch (err) {
      return new RuleFailure(
        messagePrefix(rule.id, input),
        `the rule failed (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }
}

/**
 * The request with what rules read beside it, its fields written out: a spread (`{ ...req }`) took V8's generic
 * copy, the largest part of evaluate's own time in the bench's profile.
 */
function ruleInput(req: EngineRequest, snapshot: ClusterSnapshot, policy: Policy): RuleInput {
  const input: RuleInput = {
    object: req.object,
    oldObject: req.oldObject,
    operation: req.operation,
    gvk: req.gvk,
    namespace: req.namespace,
    dryRun: req.dryRun,
    snapshot,
    policy,
  };
  if (req.username !== undefined) input.username = req.username;
  return input;
}

/** One rule's verdict with the engine's conventions applied: what every front door and test sees of a rule. */
export interface ComposedVerdict {
  /** The messages, each with its finding's severity (enforcement reads it, then drops it). */
  findings: Array<Message & Pick<Finding, 'severity'>>;
  patch: JsonPatchOp[];
  /** The object as the rule's edit left it, when the patch is not empty. */
  patched?: KubeObject;
  annotations: Record<string, string>;
}

/**
 * Runs one rule and applies what is the same for every rule: UPDATE ratcheting, the policy's unknownNodeState, and
 * the `[rule-id] Kind ns/name: ` prefix written once before each message and warning. Throws what the rule throws.
 */
export function evaluateRule(rule: Rule, input: RuleInput): ComposedVerdict {
  const verdict = rule.evaluate(input);
  // Most verdicts say nothing: no prefix to compose, nothing to ratchet or settle.
  if (verdict.findings.length === 0) return composed([], input.object, verdict.edit, verdict.annotations);
  const prefix = messagePrefix(rule.id, input);
  const settled = settleUnknownNodeState(ratchet(rule, input, verdict), input.policy, prefix);
  return composed(
    settled.findings.map((f) => compose(prefix, f)),
    input.object,
    settled.edit,
    settled.annotations,
  );
}

/**
 * The verdict with the RFC 6902 patch from the object to its edited copy (fast-json-patch `compare`: only what
 * changed), and the copy when the patch is not empty. Built field by field, as every object on this path: a spread
 * takes V8's generic copy.
 */
function composed(
  findings: ComposedVerdict['findings'],
  object: KubeObject | null,
  edit: Verdict['edit'],
  annotations: Record<string, string>,
): ComposedVerdict {
  const out: ComposedVerdict = { findings, patch: [], annotations };
  if (!edit || !object) return out;
  const copy = cloneJson(object);
  edit(copy);
  out.patch = jsonpatch.compare(object, copy) as JsonPatchOp[];
  if (out.patch.length > 0) out.patched = copy;
  return out;
}

/** The object with a patch applied, or why the patch does not apply (the API server refuses such a patch). */
function applyJsonPatch(
  object: KubeObject | null,
  patch: readonly JsonPatchOp[],
): { object: KubeObject } | { error: string } {
  try {
    const doc = jsonpatch.applyPatch(cloneJson(object), cloneJson(patch) as jsonpatch.Operation[], true);
    return { object: doc.newDocument as KubeObject };
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0]! };
  }
}

function compose(prefix: string, f: Finding): ComposedVerdict['findings'][number] {
  const { message, detail, summary } = composeFinding(prefix, f);
  const out: ComposedVerdict['findings'][number] = { severity: f.severity, message, detail, summary };
  if (f.fix !== undefined) out.fix = f.fix;
  if (f.path !== undefined) out.path = f.path;
  return out;
}

/** A composed finding as a decision reports it: without its severity. */
function reported(f: ComposedVerdict['findings'][number]): Message {
  const out: Message = { message: f.message, detail: f.detail, summary: f.summary };
  if (f.fix !== undefined) out.fix = f.fix;
  if (f.path !== undefined) out.path = f.path;
  return out;
}

/** What a rule that threw leaves: the failure, said after the rule's prefix. */
class RuleFailure {
  constructor(
    readonly prefix: string,
    readonly detail: string,
  ) {}
}

function skipped(reason: string): Decision {
  return { allowed: true, message: '', warnings: [], patch: [], auditAnnotations: {}, results: [], skipped: reason };
}

interface AppliedOutcome {
  result: RuleDecision;
  deny: boolean;
  warnings: string[];
}

function applyEnforcement(
  rule: string,
  enforcement: Enforcement,
  result: ComposedVerdict | RuleFailure,
  failureMode: Policy['failureMode'],
): AppliedOutcome {
  if (result instanceof RuleFailure) {
    const closed = failureMode === 'closed';
    const detail = `${result.detail}; failureMode ${failureMode} ${closed ? 'denies the request' : 'lets it through'}. Report this with the object to the sctp-guard maintainers.`;
    const summary = oneLine(`${result.prefix}${result.detail}`);
    return {
      result: {
        rule,
        decision: 'error',
        enforcement,
        findings: [{ message: `${result.prefix}${detail}`, detail, summary }],
        patched: false,
      },
      deny: closed,
      warnings: closed ? [] : [summary],
    };
  }
  const findings = result.findings.map(reported);
  const patched = result.patch.length > 0 && enforcement !== 'audit';
  if (result.findings.length === 0) {
    return { result: { rule, decision: 'allow', enforcement, findings, patched }, deny: false, warnings: [] };
  }
  const violations = result.findings.filter((f) => f.severity === 'violation');
  if (enforcement === 'audit') {
    return { result: { rule, decision: 'audit', enforcement, findings, patched: false }, deny: false, warnings: [] };
  }
  if (enforcement === 'deny' && violations.length > 0) {
    const advisories = result.findings.filter((f) => f.severity === 'advisory').map((f) => f.summary);
    return {
      result: { rule, decision: 'deny', enforcement, findings: violations.map(reported), patched: false },
      deny: true,
      warnings: advisories,
    };
  }
  return {
    result: { rule, decision: 'warn', enforcement, findings, patched },
    deny: false,
    warnings: findings.map((f) => f.summary),
  };
}

/**
 * No duplicates (the API server sends identical texts once), within the per-request budget. Every warning is
 * already one line (a finding's summary, composeFinding; a failure's, oneLine).
 */
function budgetWarnings(warnings: string[]): string[] {
  if (warnings.length === 0 || (warnings.length === 1 && warnings[0]!.length <= WARNINGS_BUDGET)) return warnings;
  const out: string[] = [];
  let used = 0;
  for (const w of new Set(warnings)) {
    if (used + w.length > WARNINGS_BUDGET) break;
    out.push(w);
    used += w.length;
  }
  return out;
}
