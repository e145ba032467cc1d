import type { ClusterSnapshot } from '../cluster/snapshot.js';
import type { Policy } from '../policy/types.js';
import { matchesNamespacePattern } from '../policy/namespaces.js';
import jsonpatch from 'fast-json-patch';
import type { Decision, Enforcement, EngineRequest, Finding, JsonPatchOp, KubeObject, Operation, ReportedFinding, Rule, RuleInput, RuleOutcome, RuleVerdict } from './types.js';
import { platformOwnedReason } from './platform-owned.js';
import { ratchet } from './ratchet.js';
import { enforcementOf } from './request.js';
import { settleUnknownNodeState } from './unknown-node-state.js';
import { composeFinding, messagePrefix, oneLine, WARNING_MAX } from './verdict.js';

export type { EngineRequest };

export type Phase = 'validate' | 'mutate';

/** The API server cuts warnings past 4096 characters per request. */
const WARNINGS_BUDGET = 4096;

interface EnabledRule {
  rule: Rule;
  enforcement: Enforcement;
  operations: ReadonlySet<Operation>;
}

/**
 * The rule engine: picks the enabled rules that match a request's kind and operation, runs them, applies each
 * rule's enforcement and merges the verdicts (a deny wins; patches and warnings are concatenated), the way
 * controller-runtime's multi handlers compose.
 */
export class Engine {
  private readonly index = new Map<string, EnabledRule[]>();

  constructor(
    readonly rules: readonly Rule[],
    readonly policy: Policy,
  ) {
    for (const rule of rules) {
      const enforcement = enforcementOf(rule, policy);
      if (enforcement === 'off') continue;
      for (const m of rule.matches) {
        for (const { kind } of m.kinds) {
          const key = indexKey(rule.phase, m.group, kind);
          const list = this.index.get(key) ?? [];
          if (!list.some((e) => e.rule === rule)) list.push({ rule, enforcement, operations: new Set(m.operations) });
          this.index.set(key, list);
        }
      }
    }
  }

  /** Whether any enabled rule of the phase reads this kind: the fast path for everything else. */
  watches(phase: Phase, group: string, kind: string): boolean {
    return this.index.has(indexKey(phase, group, kind));
  }

  isExcludedNamespace(namespace: string): boolean {
    return namespace !== '' && this.policy.excludedNamespaces.some((p) => matchesNamespacePattern(p, namespace));
  }

  evaluate(req: EngineRequest, snapshot: ClusterSnapshot, phase: Phase): Decision {
    // First, so that both phases (and check, audit) say why the platform's own objects pass.
    const owned = platformOwnedReason(req);
    if (owned !== undefined) return skipped(owned);
    const candidates = this.index.get(indexKey(phase, req.gvk.group, req.gvk.kind));
    if (!candidates) return skipped(`no ${phase} rule reads ${req.gvk.kind}`);
    if (this.isExcludedNamespace(req.namespace)) return skipped(`namespace ${req.namespace} is excluded by the policy`);
    const applicable = candidates.filter((c) => c.operations.has(req.operation));
    if (applicable.length === 0) return skipped(`no ${phase} rule reads ${req.operation} of ${req.gvk.kind}`);

    const results: RuleOutcome[] = [];
    const denials: string[] = [];
    const warnings: string[] = [];
    const patch: JsonPatchOp[] = [];
    const auditAnnotations: Record<string, string> = {};

    for (const { rule, enforcement } of applicable) {
      const result = this.run(rule, req, snapshot);
      const outcome = applyEnforcement(rule.id, enforcement, result, this.policy.failureMode);
      results.push(outcome.result);
      if (outcome.deny) denials.push(...outcome.result.findings.map((f) => f.message));
      warnings.push(...outcome.warnings);
      if (phase === 'mutate' && outcome.result.patched && !(result instanceof RuleFailure)) patch.push(...result.patch);
      if (outcome.result.decision !== 'allow') {
        auditAnnotations[rule.id] = oneLine(`${outcome.result.decision}: ${outcome.result.findings[0]?.message ?? 'patched'}`);
      }
      for (const [suffix, value] of Object.entries(result instanceof RuleFailure ? {} : result.annotations)) {
        auditAnnotations[`${rule.id}-${suffix}`] = value;
      }
    }

    const allowed = denials.length === 0;
    return {
      allowed,
      message: allowed ? '' : denials.join('\n'),
      warnings: budgetWarnings(warnings),
      patch: allowed ? patch : [],
      auditAnnotations,
      results,
    };
  }

  /** A rule that throws is that rule's failure, never the server's: the error becomes its outcome. */
  private run(rule: Rule, req: EngineRequest, snapshot: ClusterSnapshot): RuleResult | RuleFailure {
    try {
      return evaluateRule(rule, { ...req, snapshot, policy: this.policy });
    } catch (err) {
      return new RuleFailure(messagePrefix(rule.id, req), `the rule failed (${err instanceof Error ? err.message : String(err)})`);
    }
  }
}

/** A finding with the rule's prefix composed, as the engine reports it. */
export interface ComposedFinding extends ReportedFinding {
  severity: Finding['severity'];
}

/** One rule's verdict with the engine's conventions applied: what every front door and test sees of a rule. */
export interface RuleResult {
  findings: ComposedFinding[];
  patch: JsonPatchOp[];
  annotations: Record<string, string>;
}

/**
 * Runs one rule and applies what is the same for every rule: UPDATE ratcheting, the policy's unknownNodeState, and
 * the `[rule-id] Kind ns/name: ` prefix written once before each message and warning. Throws what the rule throws.
 */
export function evaluateRule(rule: Rule, input: RuleInput): RuleResult {
  const prefix = messagePrefix(rule.id, input);
  const verdict = settleUnknownNodeState(ratchet(rule, input, rule.evaluate(input)), input.policy, prefix);
  return { findings: verdict.findings.map((f) => compose(prefix, f)), patch: patchOf(input.object, verdict.edit), annotations: verdict.annotations };
}

/** The RFC 6902 patch from the object to its edited copy (fast-json-patch `compare`: only what changed). */
function patchOf(object: KubeObject | null, edit: RuleVerdict['edit']): JsonPatchOp[] {
  if (!edit || !object) return [];
  const copy = structuredClone(object);
  edit(copy);
  return jsonpatch.compare(object, copy) as JsonPatchOp[];
}

function compose(prefix: string, f: Finding): ComposedFinding {
  return {
    severity: f.severity,
    ...composeFinding(prefix, f),
    ...(f.fix !== undefined ? { fix: f.fix } : {}),
    ...(f.path !== undefined ? { path: f.path } : {}),
  };
}

/** What a rule that threw leaves: the failure, said after the rule's prefix. */
class RuleFailure {
  constructor(
    readonly prefix: string,
    readonly detail: string,
  ) {}
}

function indexKey(phase: Phase, group: string, kind: string): string {
  return `${phase}|${group}|${kind}`;
}

function skipped(reason: string): Decision {
  return { allowed: true, message: '', warnings: [], patch: [], auditAnnotations: {}, results: [], skipped: reason };
}

interface AppliedOutcome {
  result: RuleOutcome;
  deny: boolean;
  warnings: string[];
}

function applyEnforcement(rule: string, enforcement: Enforcement, result: RuleResult | RuleFailure, failureMode: Policy['failureMode']): AppliedOutcome {
  if (result instanceof RuleFailure) {
    const closed = failureMode === 'closed';
    const detail = `${result.detail}; failureMode ${failureMode} ${closed ? 'denies the request' : 'lets it through'}. Report this with the object to the sctp-guard maintainers.`;
    const summary = oneLine(`${result.prefix}${result.detail}`);
    return {
      result: { rule, decision: 'error', enforcement, findings: [{ message: `${result.prefix}${detail}`, detail, summary }], patched: false },
      deny: closed,
      warnings: closed ? [] : [summary],
    };
  }
  const reported = (findings: ComposedFinding[]): ReportedFinding[] => findings.map(({ severity: _, ...f }) => f);
  const violations = result.findings.filter((f) => f.severity === 'violation');
  const findings = reported(result.findings);
  const patched = result.patch.length > 0 && enforcement !== 'audit';
  if (result.findings.length === 0) {
    return { result: { rule, decision: 'allow', enforcement, findings, patched }, deny: false, warnings: [] };
  }
  if (enforcement === 'audit') {
    return { result: { rule, decision: 'audit', enforcement, findings, patched: false }, deny: false, warnings: [] };
  }
  if (enforcement === 'deny' && violations.length > 0) {
    const advisories = result.findings.filter((f) => f.severity === 'advisory').map((f) => f.summary);
    return {
      result: { rule, decision: 'deny', enforcement, findings: reported(violations), patched: false },
      deny: true,
      warnings: advisories,
    };
  }
  return { result: { rule, decision: 'warn', enforcement, findings, patched }, deny: false, warnings: findings.map((f) => f.summary) };
}

/** One line each, no duplicates (the API server sends identical texts once), within the per-request budget. */
function budgetWarnings(warnings: string[]): string[] {
  const out: string[] = [];
  let used = 0;
  for (const w of new Set(warnings.map(oneLine))) {
    if (used + w.length > WARNINGS_BUDGET) break;
    out.push(w.slice(0, WARNING_MAX + 1));
    used += w.length;
  }
  return out;
}
