import type { ClusterSnapshot } from '../cluster/snapshot.js';
import type { Policy } from '../policy/types.js';
import { matchesNamespacePattern } from '../policy/namespaces.js';
import type { Decision, Enforcement, EngineRequest, JsonPatchOp, Operation, Rule, RuleOutcome, RuleVerdict } from './types.js';
import { describeObject, oneLine, WARNING_MAX } from './verdict.js';

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
      const enforcement = policy.rules[rule.id]?.enforcement ?? rule.defaultEnforcement;
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
      const verdict = this.run(rule, req, snapshot);
      const outcome = applyEnforcement(rule.id, enforcement, verdict, this.policy.failureMode);
      results.push(outcome.result);
      if (outcome.deny) denials.push(...outcome.result.messages);
      warnings.push(...outcome.warnings);
      if (phase === 'mutate' && outcome.result.patched && !(verdict instanceof Error)) patch.push(...verdict.patch);
      if (outcome.result.decision !== 'allow') {
        auditAnnotations[rule.id] = oneLine(`${outcome.result.decision}: ${outcome.result.messages[0] ?? 'patched'}`);
      }
      for (const [suffix, value] of Object.entries(verdict instanceof Error ? {} : verdict.annotations)) {
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
  private run(rule: Rule, req: EngineRequest, snapshot: ClusterSnapshot): RuleVerdict | Error {
    try {
      return rule.evaluate({ ...req, snapshot, policy: this.policy });
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      e.message = `[${rule.id}] ${describeObject(req.object ?? req.oldObject, req.gvk.kind, req.namespace)}: the rule failed (${e.message})`;
      return e;
    }
  }
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

function applyEnforcement(
  rule: string,
  enforcement: Enforcement,
  verdict: RuleVerdict | Error,
  failureMode: Policy['failureMode'],
): AppliedOutcome {
  if (verdict instanceof Error) {
    const closed = failureMode === 'closed';
    const message = `${verdict.message}; failureMode ${failureMode} ${closed ? 'denies the request' : 'lets it through'}. Report this with the object to the sctp-guard maintainers.`;
    return {
      result: { rule, decision: 'error', enforcement, messages: [message], patched: false },
      deny: closed,
      warnings: closed ? [] : [oneLine(verdict.message)],
    };
  }
  const violations = verdict.findings.filter((f) => f.severity === 'violation');
  const messages = verdict.findings.map((f) => f.message);
  const summaries = verdict.findings.map((f) => f.summary);
  const patched = verdict.patch.length > 0 && enforcement !== 'audit';
  if (verdict.findings.length === 0) {
    return { result: { rule, decision: 'allow', enforcement, messages, patched }, deny: false, warnings: [] };
  }
  if (enforcement === 'audit') {
    return { result: { rule, decision: 'audit', enforcement, messages, patched: false }, deny: false, warnings: [] };
  }
  if (enforcement === 'deny' && violations.length > 0) {
    const advisories = verdict.findings.filter((f) => f.severity === 'advisory').map((f) => f.summary);
    return {
      result: { rule, decision: 'deny', enforcement, messages: violations.map((f) => f.message), patched: false },
      deny: true,
      warnings: advisories,
    };
  }
  return { result: { rule, decision: 'warn', enforcement, messages, patched }, deny: false, warnings: summaries };
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
