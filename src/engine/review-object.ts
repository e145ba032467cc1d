import type { ClusterSnapshot } from '../cluster/snapshot.js';
import type { Engine, EngineRequest, Phase } from './engine.js';
import type { Decision, JsonPatchOp, KubeObject, RuleAction } from './types.js';
import { engineRequest } from './request.js';
import { messagePrefix } from './verdict.js';
import { describePatch } from './patch-summary.js';

/** One rule outcome worth reporting: anything but `allow`. */
export interface ReviewMessage {
  rule: string;
  phase: Phase;
  decision: Exclude<RuleAction, 'allow'>;
  /** The full explanation: rule, object, what is wrong, how to fix it. */
  message: string;
  /** The message without its `[rule-id] Kind ns/name: ` prefix. */
  detail: string;
  fix?: string;
  /** JSON Pointer of the field the finding is about, when known. */
  path?: string;
}

export interface Review {
  /** The request the validating phase saw (its object is the mutated one). */
  request: EngineRequest;
  /** The object as the API server would store it: after the mutating phase's patch. */
  object: KubeObject;
  /** The JSON Patch of the mutating phase (empty when nothing changed or the object was denied). */
  patch: JsonPatchOp[];
  /** Rules whose patch is in `patch`. */
  patchedBy: string[];
  /** What the patch changes, in words (patch-summary.ts), when there is one. */
  change?: string;
  allowed: boolean;
  findings: ReviewMessage[];
  /** The one-line warnings kubectl would print. */
  warnings: string[];
  /** Why no rule ran at all, when none did. */
  skipped?: string;
}

/**
 * One object through both admission phases, in the API server's order: the mutating phase, its JSON Patch applied,
 * then the validating phase on the patched object. A denial in the mutating phase ends the review, as it ends the
 * request. `check` and `audit` share this, so an object fares the same in CI, in a cluster scan and at admission.
 * The operation is CREATE (both ask "would this be admitted if it were applied today?"), or UPDATE with `oldObject`.
 */
export function reviewObject(
  engine: Engine,
  snapshot: ClusterSnapshot,
  object: KubeObject,
  oldObject: KubeObject | null = null,
): Review {
  const request = engineRequest({ object, oldObject });
  const mutate = engine.evaluate(request, snapshot, 'mutate');
  const findings = findingsOf(mutate, 'mutate');
  const patchedBy = mutate.results.filter((r) => r.patched).map((r) => r.rule);
  if (!mutate.allowed)
    return { request, object, patch: [], patchedBy: [], allowed: false, findings, warnings: mutate.warnings };

  let patchedObject = object;
  if (mutate.patch.length > 0) {
    if (!mutate.patchedObject) {
      // The API server refuses a request whose webhook patch does not apply; so does the review.
      const rules = patchedBy.join(', ');
      const detail = `the mutation does not apply to the object (${mutate.patchError}). Report this with the object to the sctp-guard maintainers.`;
      findings.push({
        rule: rules,
        phase: 'mutate',
        decision: 'error',
        message: `${messagePrefix(rules, request)}${detail}`,
        detail,
      });
      return { request, object, patch: [], patchedBy: [], allowed: false, findings, warnings: mutate.warnings };
    }
    patchedObject = mutate.patchedObject;
  }

  const validateRequest = { ...request, object: patchedObject };
  const validate = engine.evaluate(validateRequest, snapshot, 'validate');
  findings.push(...findingsOf(validate, 'validate'));
  const review: Review = {
    request: validateRequest,
    object: patchedObject,
    patch: mutate.patch,
    patchedBy,
    ...(mutate.patch.length > 0 ? { change: describePatch(object, patchedObject, mutate.patch) } : {}),
    allowed: validate.allowed,
    findings,
    warnings: [...new Set([...mutate.warnings, ...validate.warnings])],
  };
  if (mutate.skipped !== undefined && validate.skipped !== undefined) review.skipped = validate.skipped;
  return review;
}

function findingsOf(decision: Decision, phase: Phase): ReviewMessage[] {
  return decision.results.flatMap((r) =>
    r.decision === 'allow'
      ? []
      : r.findings.map(({ message, detail, fix, path }) => ({
          rule: r.rule,
          phase,
          decision: r.decision as ReviewMessage['decision'],
          message,
          detail,
          ...(fix !== undefined ? { fix } : {}),
          ...(path !== undefined ? { path } : {}),
        })),
  );
}
