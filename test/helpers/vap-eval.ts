/**
 * The API server's evaluation of a ValidatingAdmissionPolicy and its binding, with a real CEL implementation
 * (@bufbuild/cel plus its strings extension, the CEL library Kubernetes adds from 1.29): resource match, the
 * binding's namespaceSelector, matchConditions, variables (in order), then each validation, whose
 * messageExpression gives the message (k8s.io/apiserver pkg/admission/plugin/policy/validating).
 */
import { celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import type { VapPair } from '../../src/admission/vap.js';
import { matchesLabelSelector } from '../../src/cluster/selectors.js';

/** Kubernetes hands CEL maps, lists and int64s: JS Maps and bigints for @bufbuild/cel. */
export function toCel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCel);
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (value && typeof value === 'object') return new Map(Object.entries(value).map(([k, v]) => [k, toCel(v)]));
  return value;
}

const env = celEnv({ funcs: strings });
const compiled = new Map<string, (ctx: Record<string, unknown>) => unknown>();

export function evalCel(expression: string, bindings: Record<string, unknown>): unknown {
  let run = compiled.get(expression);
  if (!run) compiled.set(expression, (run = plan(env, parse(expression)) as (ctx: Record<string, unknown>) => unknown));
  const result = run(bindings);
  if (isCelError(result))
    throw new Error(`CEL error in ${expression}: ${String((result as { message?: string }).message ?? result)}`);
  return result;
}

export interface AdmissionInput {
  request: {
    kind: { group: string; version: string; kind: string };
    resource: string;
    namespace: string;
    operation: string;
  };
  object: unknown;
  oldObject: unknown;
}

export interface VapOutcome {
  action: string;
  message: string;
}

/** What one policy + binding does to a request: nothing (undefined), or a failed validation with its action. */
export function evaluatePair(pair: VapPair, input: AdmissionInput): VapOutcome | undefined {
  const spec = pair.policy.spec!;
  const { request } = input;
  const matched = spec.matchConstraints!.resourceRules!.some(
    (r) =>
      r.apiGroups!.includes(request.kind.group) &&
      r.apiVersions!.includes(request.kind.version) &&
      r.resources!.includes(request.resource) &&
      r.operations!.includes(request.operation as never),
  );
  if (!matched) return undefined;
  const selector = pair.binding.spec!.matchResources?.namespaceSelector;
  // Namespaces carry kubernetes.io/metadata.name (GA since 1.22), the label the selector reads.
  if (
    selector &&
    request.namespace !== '' &&
    !matchesLabelSelector({ 'kubernetes.io/metadata.name': request.namespace }, selector as never)
  )
    return undefined;
  const bindings: Record<string, unknown> = {
    request: toCel(request),
    object: toCel(input.object),
    oldObject: toCel(input.oldObject),
  };
  for (const c of spec.matchConditions ?? []) {
    const r = evalCel(c.expression, bindings);
    if (typeof r !== 'boolean') throw new Error(`matchCondition ${c.name} gave ${String(r)}`);
    if (!r) return undefined;
  }
  const variables = new Map<string, unknown>();
  bindings.variables = variables;
  for (const v of spec.variables ?? []) variables.set(v.name, evalCel(v.expression, bindings));
  for (const v of spec.validations ?? []) {
    const ok = evalCel(v.expression, bindings);
    if (typeof ok !== 'boolean') throw new Error(`validation gave ${String(ok)}`);
    if (ok) continue;
    const message = evalCel(v.messageExpression!, bindings);
    if (typeof message !== 'string') throw new Error(`messageExpression gave ${String(message)}`);
    return { action: pair.binding.spec!.validationActions![0]!, message };
  }
  return undefined;
}
