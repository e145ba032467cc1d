import type { V1ValidatingAdmissionPolicy, V1ValidatingAdmissionPolicyBinding } from '@kubernetes/client-node';
import { platformOwnedConditions } from '../engine/platform-owned.js';
import type { CelCheck, Enforcement, Rule } from '../engine/types.js';
import { enforcementOf } from '../engine/request.js';
import { NAME_SOURCES, UNNAMED, WARNING_MAX } from '../engine/verdict.js';
import type { Policy } from '../policy/types.js';
import { celString } from '../rules/cel.js';
import { excludedPatternCondition, namespaceSelector, WEBHOOK_LABELS, webhookRules } from './webhook-config.js';

/**
 * ValidatingAdmissionPolicies (admissionregistration.k8s.io/v1, GA in Kubernetes 1.30) for the rules that read
 * only the object (`Rule.cel`): the API server enforces them itself, so they hold while the webhook is down.
 * One policy and one binding per check, since a binding has one set of validationActions: a rule's main check
 * follows its enforcement (deny → Deny, warn → Warn, audit → Audit), an advisory check is a Warn.
 */

export const VAP_NAME_PREFIX = 'sctp-guard-';

export type ValidationAction = 'Deny' | 'Warn' | 'Audit';

export function validationAction(check: Pick<CelCheck, 'severity'>, enforcement: Enforcement): ValidationAction {
  if (enforcement === 'audit') return 'Audit';
  return check.severity === 'violation' && enforcement === 'deny' ? 'Deny' : 'Warn';
}

/** objectName in CEL, generated from its definition (NAME_SOURCES): the first field set and not empty, with its suffix. */
function celObjectName(o: string): string {
  return NAME_SOURCES.reduceRight<string>((rest, { field, suffix }) => {
    const value = `${o}.metadata.${field}`;
    return `(has(${value}) && ${value} != '' ? ${value}${suffix ? ` + ${celString(suffix)}` : ''} : ${rest})`;
  }, celString(UNNAMED));
}

/** messagePrefix in CEL: `[rule-id] Kind ns/name: ` (describeObject with the request's kind and namespace). */
function celPrefix(ruleId: string): string {
  const kind = '(has(object.kind) ? object.kind : request.kind.kind)';
  const ns = '(has(object.metadata.namespace) ? object.metadata.namespace : request.namespace)';
  return `${celString(`[${ruleId}] `)} + ${kind} + ' ' + (${ns} != '' ? ${ns} + '/' : '') + ${celObjectName('object')} + ': '`;
}

/**
 * composeFinding in CEL, on the `prefix` variable: a denial (and the audit log) carries the full message, a
 * warning the one-line summary (oneLine for text without control characters: cut at WARNING_MAX with an ellipsis).
 */
export function messageExpressionFor(check: CelCheck, action: ValidationAction): string {
  if (action === 'Warn') {
    const line = `(variables.prefix + ${check.summary})`;
    return `${line}.size() <= ${WARNING_MAX} ? ${line} : ${line}.substring(0, ${WARNING_MAX - 1}) + '…'`;
  }
  return `variables.prefix + ${check.text}${check.fix !== undefined ? ` + ' Fix: ' + (${check.fix}) + '.'` : ''}`;
}

export interface VapPair {
  rule: string;
  check: string;
  action: ValidationAction;
  policy: V1ValidatingAdmissionPolicy;
  binding: V1ValidatingAdmissionPolicyBinding;
}

/** A policy and its binding per check of every enabled stateless rule, under `policy`. */
export function validatingAdmissionPolicies(rules: readonly Rule[], policy: Policy): VapPair[] {
  const out: VapPair[] = [];
  const patterns = excludedPatternCondition(policy);
  for (const rule of rules) {
    const enforcement = enforcementOf(rule, policy);
    if (!rule.cel || enforcement === 'off') continue;
    const cel = rule.cel(policy);
    // The platform's own objects pass untouched here as in the engine and the webhooks (engine/platform-owned.ts).
    const owned = platformOwnedConditions(
      rule.matches.flatMap((m) => m.kinds.map((k) => ({ group: m.group, kind: k.kind }))),
    );
    const conditions = [...(patterns ? [patterns] : []), ...owned];
    for (const check of cel.checks) {
      const name = `${VAP_NAME_PREFIX}${rule.id}${check.name ? `-${check.name}` : ''}`;
      const action = validationAction(check, enforcement);
      out.push({
        rule: rule.id,
        check: check.name,
        action,
        policy: {
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'ValidatingAdmissionPolicy',
          metadata: { name, labels: { ...WEBHOOK_LABELS } },
          spec: {
            // An expression that cannot be evaluated: failureMode closed denies, open lets the object through.
            failurePolicy: policy.failureMode === 'closed' ? 'Fail' : 'Ignore',
            matchConstraints: { resourceRules: webhookRules([rule]), matchPolicy: 'Equivalent' },
            ...(conditions.length > 0 ? { matchConditions: conditions } : {}),
            variables: [{ name: 'prefix', expression: celPrefix(rule.id) }, ...cel.variables.map((v) => ({ ...v }))],
            validations: [
              {
                expression: check.expression,
                messageExpression: messageExpressionFor(check, action),
                reason: 'Forbidden',
              },
            ],
          },
        },
        binding: {
          apiVersion: 'admissionregistration.k8s.io/v1',
          kind: 'ValidatingAdmissionPolicyBinding',
          metadata: { name, labels: { ...WEBHOOK_LABELS } },
          // The policy's excluded namespaces: exact names here, `prefix-*` patterns in the policy's matchConditions.
          spec: {
            policyName: name,
            validationActions: [action],
            matchResources: { namespaceSelector: namespaceSelector(policy) },
          },
        },
      });
    }
  }
  return out;
}
