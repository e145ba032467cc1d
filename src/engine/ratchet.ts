import { isDeepStrictEqual } from 'node:util';
import { getPointer } from '../util/json-pointer.js';
import type { Finding, KubeObject, Rule, RuleInput, Verdict } from './types.js';

/**
 * UPDATE ratcheting, the same for every rule, as Kubernetes ratchets validation (KEP-4008, CRD validation
 * ratcheting: an update may keep what is already wrong, never add to it). On UPDATE the rule also judges
 * `oldObject` alone (same snapshot and policy, as if it were created today); a violation `oldObject` already has
 * becomes an advisory, so e.g. removing a finalizer from an object that predates the policy is never blocked.
 * Patches are never touched: a mutating rule's rewrite goes out whether or not the problem is old.
 */
export function ratchet(rule: Rule, input: RuleInput, verdict: Verdict): Verdict {
  const { object, oldObject } = input;
  if (
    input.operation !== 'UPDATE' ||
    !object ||
    !oldObject ||
    !verdict.findings.some((f) => f.severity === 'violation')
  )
    return verdict;
  const before = judgeAlone(rule, input, oldObject).map((f) => problemKey(f, oldObject));
  const findings = verdict.findings.map((f) => {
    if (f.severity !== 'violation') return f;
    const key = problemKey(f, object);
    return before.some((b) => isDeepStrictEqual(b, key))
      ? { ...f, severity: 'advisory' as const, summary: f.existingSummary ?? f.summary }
      : f;
  });
  return { ...verdict, findings };
}

/** A rule that cannot judge the old object says nothing about it: the new violation stands. */
function judgeAlone(rule: Rule, input: RuleInput, oldObject: KubeObject): Finding[] {
  try {
    return rule.evaluate({ ...input, object: oldObject, oldObject: null, operation: 'CREATE' }).findings;
  } catch {
    return [];
  }
}

/** What makes two findings the same problem: the rule's key, or the summary and the value of the field it is about. */
function problemKey(f: Finding, obj: KubeObject): unknown {
  if (f.ratchetKey !== undefined) return f.ratchetKey;
  return f.path === undefined
    ? { summary: f.summary }
    : { summary: f.summary, path: f.path, value: getPointer(obj, f.path) };
}
