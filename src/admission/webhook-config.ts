import type {
  AdmissionregistrationV1WebhookClientConfig,
  V1LabelSelector,
  V1MatchCondition,
  V1MutatingWebhookConfiguration,
  V1RuleWithOperations,
  V1ValidatingWebhookConfiguration,
} from '@kubernetes/client-node';
import type { Phase } from '../engine/engine.js';
import { platformOwnedConditions } from '../engine/platform-owned.js';
import type { FieldPath, Operation, Rule } from '../engine/types.js';
import type { Policy } from '../policy/types.js';
import { podSpecPath } from '../util/kinds.js';
import { celString } from '../rules/cel.js';

/**
 * The ValidatingWebhookConfiguration and MutatingWebhookConfiguration, derived from each rule's `matches`, so the
 * API server sends exactly what the rules read. `deploy/` is generated from this (`register --dry-run`) and a
 * test holds the checked-in YAML to it.
 */

export const WEBHOOK_CONFIG_NAME = 'sctp-guard';
export const WEBHOOK_LABELS = { 'app.kubernetes.io/name': 'sctp-guard' } as const;
export const WEBHOOK_PATHS: Record<Phase, string> = { validate: '/validate', mutate: '/mutate' };
export const DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 5;
/** The label every namespace carries (GA since Kubernetes 1.22), the only way to select namespaces by name. */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export type WebhookTarget = { service: { name: string; namespace: string; port: number } } | { url: string };

export interface WebhookConfigOptions {
  rules: readonly Rule[];
  /** Its excludedNamespaces are skipped by the API server too (exact names by namespaceSelector, patterns by CEL). */
  policy: Policy;
  target: WebhookTarget;
  /** PEM of the CA that signed the serving certificate; absent when service-ca or cert-manager injects it. */
  caBundlePem?: string;
  /**
   * CEL matchConditions (GA in Kubernetes 1.30, beta and on by default from 1.28): only objects that carry SCTP
   * reach the webhook. Without them (`legacy`) every object of the watched kinds does, so the hooks fail open.
   */
  matchConditions?: boolean;
  timeoutSeconds?: number;
}

export interface WebhookConfigurations {
  validating?: V1ValidatingWebhookConfiguration;
  mutating?: V1MutatingWebhookConfiguration;
}

/**
 * The API groups whose protocol fields the API server validates against the core Protocol enum, exactly `TCP`,
 * `UDP` or `SCTP` (k8s.io/kubernetes pkg/apis/core/validation supportedPortProtocols, networking/validation
 * validateNetworkPolicyPort), before validating webhooks run. A CRD's protocol arrives as written: the Gateway API's
 * ProtocolType admits `sctp` (pattern `^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$`, and its own CEL rules read it with
 * `(?i)`), AKO's networking.x-k8s.io/v1alpha1 any string, and the engine's isSctp reads any case.
 */
const ENUM_VALIDATED_GROUPS = new Set(['', 'apps', 'batch', 'networking.k8s.io']);

/**
 * `has()` guards every step: a missing field is an evaluation error in CEL, and an error makes the API server
 * apply failurePolicy instead of skipping the webhook. Protocols compare exactly where the API server has
 * validated the enum, in any case elsewhere (`upperAscii`: strings extension, in every Kubernetes CEL environment).
 */
function celHasSctp(variable: string, path: FieldPath, exact: boolean): string {
  let depth = 0;
  const walk = (expr: string, rest: readonly string[]): string => {
    const [head, ...tail] = rest;
    if (head === '*') {
      const item = `x${depth++}`;
      return `${expr}.exists(${item}, ${walk(item, tail)})`;
    }
    const field = `${expr}.${head}`;
    const value = exact ? field : `${field}.upperAscii()`;
    return tail.length === 0 ? `has(${field}) && ${value} == 'SCTP'` : `has(${field}) && ${walk(field, tail)}`;
  };
  return walk(variable, path);
}

/** The subject of a kind's condition: `object`, or on DELETE (object is null) the `oldObject`. */
function subject(predicate: (v: string) => string, deletes: boolean): string {
  const onObject = `object != null && (${predicate('object')})`;
  return deletes
    ? `request.operation == 'DELETE' ? (oldObject != null && (${predicate('oldObject')})) : (${onObject})`
    : onObject;
}

/**
 * What the rules of one phase declare about one kind: the union of their SCTP fields (in declaration order), or
 * undefined when one of them reads objects of the kind whatever their fields.
 */
interface KindReads {
  operations: Set<Operation>;
  /** Every API group the kind is read in validates protocols as the core enum. */
  enumProtocols: boolean;
  sctpFields: FieldPath[] | undefined;
  group: string;
}

function kindReads(rules: readonly Rule[]): Map<string, KindReads> {
  const out = new Map<string, KindReads>();
  for (const rule of rules) {
    for (const m of rule.matches) {
      for (const { kind } of m.kinds) {
        const fields = m.sctpFields?.map((p) =>
          p[0] === 'podSpec' ? [...(podSpecPath(kind) ?? []), ...p.slice(1)] : p,
        );
        const seen = out.get(kind);
        if (!seen) {
          out.set(kind, {
            operations: new Set(m.operations),
            enumProtocols: ENUM_VALIDATED_GROUPS.has(m.group),
            sctpFields: fields && [...fields],
            group: m.group,
          });
          continue;
        }
        m.operations.forEach((o) => seen.operations.add(o));
        seen.enumProtocols &&= ENUM_VALIDATED_GROUPS.has(m.group);
        if (!fields) seen.sctpFields = undefined;
        else if (seen.sctpFields)
          for (const f of fields)
            if (!seen.sctpFields.some((p) => p.join('.') === f.join('.'))) seen.sctpFields.push(f);
      }
    }
  }
  return out;
}

/** The conditions a request of `kind` must meet to be sent, from what the rules declare they read. */
function kindConditions(kind: string, reads: KindReads): V1MatchCondition[] {
  const out: V1MatchCondition[] = [];
  const paths = reads.sctpFields;
  const slug = kind.toLowerCase();
  if (paths && paths.length > 0) {
    const has = (v: string, p: FieldPath) => celHasSctp(v, p, reads.enumProtocols);
    const carries = (v: string) =>
      paths.length === 1 ? has(v, paths[0]!) : paths.map((p) => `(${has(v, p)})`).join(' || ');
    out.push({
      name: `${slug}-carries-sctp`,
      expression: `request.kind.kind != '${kind}' || (${subject(carries, reads.operations.has('DELETE'))})`,
    });
  }
  // What the platform's own controllers write is never sent (engine/platform-owned.ts): an outage cannot block it.
  out.push(...platformOwnedConditions([{ group: reads.group, kind }]));
  return out;
}

/** Namespace patterns (`openshift-*`) cannot be label-selected: CEL skips them. Cluster-scoped objects have ''. */
export function excludedPatternCondition(policy: Policy): V1MatchCondition | undefined {
  const prefixes = policy.excludedNamespaces.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  if (prefixes.length === 0) return undefined;
  return {
    name: 'namespace-not-excluded',
    expression: prefixes.map((p) => `!request.namespace.startsWith(${celString(p)})`).join(' && '),
  };
}

/**
 * Exact names are left out by namespaceSelector, which also works on clusters without matchConditions. It never
 * applies to cluster-scoped objects such as MachineConfigs (they are always sent).
 */
export function namespaceSelector(policy: Policy): V1LabelSelector {
  const names = [...new Set(policy.excludedNamespaces.filter((p) => !p.endsWith('*')))].sort();
  return { matchExpressions: [{ key: NAMESPACE_NAME_LABEL, operator: 'NotIn', values: names }] };
}

interface ResourceRule {
  group: string;
  resources: Set<string>;
  versions: Set<string>;
  operations: Set<Operation>;
}

/** One `rules` entry per (group, versions, operations), resources merged, in a stable order. */
export function webhookRules(rules: readonly Rule[]): V1RuleWithOperations[] {
  const byResource = new Map<string, ResourceRule>();
  for (const rule of rules) {
    for (const m of rule.matches) {
      for (const { resource } of m.kinds) {
        const key = `${m.group}/${resource}`;
        const entry = byResource.get(key) ?? {
          group: m.group,
          resources: new Set([resource]),
          versions: new Set<string>(),
          operations: new Set<Operation>(),
        };
        m.versions.forEach((v) => entry.versions.add(v));
        m.operations.forEach((o) => entry.operations.add(o));
        byResource.set(key, entry);
      }
    }
  }
  const merged = new Map<string, ResourceRule>();
  for (const entry of byResource.values()) {
    const key = `${entry.group}|${sorted(entry.versions)}|${sorted(entry.operations)}`;
    const into = merged.get(key);
    if (into) entry.resources.forEach((r) => into.resources.add(r));
    else merged.set(key, { ...entry, resources: new Set(entry.resources) });
  }
  const entries = [...merged.values()]
    .map((e) => ({
      apiGroups: [e.group],
      apiVersions: sorted(e.versions),
      operations: sorted(e.operations),
      resources: sorted(e.resources),
    }))
    .sort((a, b) => `${a.apiGroups[0]}/${a.resources[0]}`.localeCompare(`${b.apiGroups[0]}/${b.resources[0]}`));
  return entries;
}

function sorted<T extends string>(values: Iterable<T>): T[] {
  return [...values].sort();
}

function clientConfig(
  target: WebhookTarget,
  phase: Phase,
  caBundlePem?: string,
): AdmissionregistrationV1WebhookClientConfig {
  const path = WEBHOOK_PATHS[phase];
  const caBundle = caBundlePem === undefined ? {} : { caBundle: Buffer.from(caBundlePem).toString('base64') };
  if ('url' in target) return { url: `${target.url.replace(/\/+$/, '')}${path}`, ...caBundle };
  return { service: { ...target.service, path }, ...caBundle };
}

/**
 * What an outage of sctp-guard does, per hook (the table in docs/operating.md):
 * - validate: with matchConditions only objects carrying SCTP in checked namespaces are sent (never the platform's
 *   own: engine/platform-owned.ts), so `Fail` blocks only those until sctp-guard is back; without them every Pod
 *   and Service would wait, so it fails open.
 * - mutate: `Ignore` always. A MachineConfig that misses its translation is read by the MCO itself: every release
 *   parses 2.x and its own 3.x range (IgnParseWrapper / ParseAndConvertConfig in pkg/controller/common/helpers.go),
 *   and one it refuses stops at the render controller (the pool reports RenderDegraded, its nodes keep their
 *   rendered config). An SCTP Pod that misses its node affinity is still held by the validating hook.
 */
function failurePolicy(phase: Phase, withConditions: boolean): 'Fail' | 'Ignore' {
  return phase === 'validate' && withConditions ? 'Fail' : 'Ignore';
}

function webhook(phase: Phase, rules: readonly Rule[], options: WebhookConfigOptions) {
  const entries = webhookRules(rules);
  const withConditions = options.matchConditions ?? true;
  const reads = kindReads(rules);
  const conditions = withConditions
    ? [
        excludedPatternCondition(options.policy),
        ...sorted(reads.keys()).flatMap((kind) => kindConditions(kind, reads.get(kind)!)),
      ].filter((c): c is V1MatchCondition => c !== undefined)
    : [];
  return {
    name: `${phase}.sctp-guard.io`,
    admissionReviewVersions: ['v1', 'v1beta1'],
    clientConfig: clientConfig(options.target, phase, options.caBundlePem),
    rules: entries,
    failurePolicy: failurePolicy(phase, withConditions),
    sideEffects: 'None',
    timeoutSeconds: options.timeoutSeconds ?? DEFAULT_WEBHOOK_TIMEOUT_SECONDS,
    matchPolicy: 'Equivalent',
    namespaceSelector: namespaceSelector(options.policy),
    ...(conditions.length > 0 ? { matchConditions: conditions } : {}),
  };
}

/**
 * The rules the webhook runs: all of them, or, when the policy hands the stateless rules to the API server
 * (`statelessRules: vap`, the ValidatingAdmissionPolicies of `export vap`), those that need cluster state.
 */
export function rulesForWebhook(rules: readonly Rule[], policy: Pick<Policy, 'statelessRules'>): readonly Rule[] {
  return policy.statelessRules === 'vap' ? rules.filter((r) => r.cel === undefined) : rules;
}

/** Both configurations, each present only when some rule runs in its phase. */
export function webhookConfigurations(options: WebhookConfigOptions): WebhookConfigurations {
  const metadata = () => ({ name: WEBHOOK_CONFIG_NAME, labels: { ...WEBHOOK_LABELS } });
  const rules = rulesForWebhook(options.rules, options.policy);
  const validateRules = rules.filter((r) => r.phase === 'validate');
  const mutateRules = rules.filter((r) => r.phase === 'mutate');
  const out: WebhookConfigurations = {};
  if (validateRules.length > 0) {
    out.validating = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: metadata(),
      webhooks: [webhook('validate', validateRules, options)],
    };
  }
  if (mutateRules.length > 0) {
    out.mutating = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: metadata(),
      // The Ignition rewrite is idempotent and reads no other webhook's changes: one call is enough.
      webhooks: [{ ...webhook('mutate', mutateRules, options), reinvocationPolicy: 'Never' }],
    };
  }
  return out;
}
