import type { Policy } from '../policy/types.js';
import { isClusterScoped } from '../util/kinds.js';
import type { Enforcement, EngineRequest, GroupVersionKind, KubeObject, Rule } from './types.js';

/**
 * The namespace `kubectl apply` would send an object to: its own, else (for a namespaced kind) the context's
 * namespace, which is `default` in a fresh kubeconfig. Cluster-scoped objects have none ('').
 */
export function namespaceOf(object: KubeObject): string {
  if (isClusterScoped(object.kind ?? '')) return '';
  const ns = object.metadata?.namespace;
  return typeof ns === 'string' && ns !== '' ? ns : 'default';
}

/** `apps/v1` → group apps, version v1; `v1` → the core group ''. */
export function gvkOf(object: KubeObject): GroupVersionKind {
  const apiVersion = object.apiVersion ?? '';
  const slash = apiVersion.lastIndexOf('/');
  return {
    group: slash < 0 ? '' : apiVersion.slice(0, slash),
    version: apiVersion.slice(slash + 1),
    kind: object.kind ?? '',
  };
}

/**
 * The one way to build what the engine judges. The admission adapter passes the AdmissionRequest's own fields
 * (authoritative); `check`, `audit` and the tests pass an object and get the rest as `kubectl apply` would send it:
 * CREATE (UPDATE with an old object), its apiVersion and kind, its namespace or `default`.
 */
export function engineRequest(fields: Partial<EngineRequest> & Pick<EngineRequest, 'object'>): EngineRequest {
  const { object, oldObject = null } = fields;
  const subject = object ?? oldObject ?? {};
  // Every field written out, always in this order: one object shape for every request (a spread of `fields` gave
  // each caller's shape, and the engine's reads of it went through V8's generic paths).
  const request: EngineRequest = {
    object,
    oldObject,
    operation: fields.operation ?? (oldObject ? 'UPDATE' : 'CREATE'),
    gvk: fields.gvk ?? gvkOf(subject),
    namespace: fields.namespace ?? namespaceOf(subject),
    dryRun: fields.dryRun ?? false,
  };
  if (fields.username !== undefined) request.username = fields.username;
  return request;
}

/** A rule's enforcement under a policy: the policy's `rules.<id>.enforcement`, else the rule's default. */
export function enforcementOf(
  rule: Pick<Rule, 'id' | 'defaultEnforcement'>,
  policy: Pick<Policy, 'rules'>,
): Enforcement {
  return policy.rules[rule.id]?.enforcement ?? rule.defaultEnforcement;
}
