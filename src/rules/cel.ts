/**
 * Building blocks for the CEL form of the stateless rules (`Rule.cel`), each the CEL twin of a reader in
 * objects.ts or verdict.ts. Only functions of the Kubernetes CEL base environment are used: the standard library,
 * its macros, and the strings extension version 2 (`upperAscii`, `join`, `substring`;
 * k8s.io/apiserver/pkg/cel/environment/base.go, from Kubernetes 1.29).
 */
import type { CelCheck } from '../engine/types.js';
import { POD_KINDS, type KindInfo } from '../util/kinds.js';

/** A CEL string literal. */
export function celString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function celStringList(values: readonly string[]): string {
  return `[${values.map(celString).join(', ')}]`;
}

/** isSctp: a string protocol, SCTP in any case. */
export function celIsSctp(item: string, field = 'protocol'): string {
  return `has(${item}.${field}) && ${item}.${field}.upperAscii() == 'SCTP'`;
}

/** serviceType: `spec.type` of `o` with the API server's default. */
export function celServiceType(o: string): string {
  return `has(${o}.spec) && has(${o}.spec.type) && ${o}.spec.type != '' ? ${o}.spec.type : 'ClusterIP'`;
}

/** The elements of `list` (a field path under `object`) whose protocol is SCTP; [] when a step is missing. */
export function celSctpItems(root: string, path: readonly string[], item: string): string {
  const guards = path.map((_, i) => `has(${[root, ...path.slice(0, i + 1)].join('.')})`).join(' && ');
  return `${guards} ? ${[root, ...path].join('.')}.filter(${item}, ${celIsSctp(item)}) : []`;
}

/** portLabel of each element, joined with ', ' as the messages list them. */
export function celPortLabels(list: string, port = 'port'): string {
  return `${list}.map(p, has(p.name) && p.name != '' ? p.name + ' (' + string(p.${port}) + '/SCTP)' : string(p.${port}) + '/SCTP').join(', ')`;
}

/** `object` and `oldObject` both have the field at `path` (e.g. spec.ports), with the same value. */
export function celUnchanged(path: readonly [string, string]): string {
  const [parent, field] = path;
  return `has(object.${parent}) && has(object.${parent}.${field}) && has(oldObject.${parent}) && has(oldObject.${parent}.${field}) && oldObject.${parent}.${field} == object.${parent}.${field}`;
}

/** `variables.existing` for ratchetedChecks: an UPDATE whose old object already had the same problem. */
export function celExisting(sameProblem: string): { name: string; expression: string } {
  return { name: 'existing', expression: `request.operation == 'UPDATE' && oldObject != null && ${sameProblem}` };
}

/**
 * The engine's UPDATE ratcheting (src/engine/ratchet.ts) in CEL: the check fails as a violation when `fails` holds
 * and `variables.existing` does not (the old object did not have the same problem), as an advisory when it does.
 */
export function ratchetedChecks(
  fails: string,
  parts: { text: string; fix: string; summary: string; existingSummary?: string },
): CelCheck[] {
  const { text, fix, summary, existingSummary = summary } = parts;
  return [
    { name: '', severity: 'violation', expression: `!(${fails}) || variables.existing`, text, fix, summary },
    {
      name: 'existing',
      severity: 'advisory',
      expression: `!(${fails}) || !variables.existing`,
      text,
      fix,
      summary: existingSummary,
    },
  ];
}

/**
 * A pod rule's CEL written once, for a pod spec, and expanded for every kind that carries one (Kyverno's autogen
 * for pod controllers): `fn` gets the CEL path of the pod spec under `root` (`object.spec`,
 * `object.spec.template.spec`...) and the result picks the form by the request's kind, with the paths of the kinds
 * registry (`podSpecPath`). `missing` is the value where the object has no pod spec (every step is tested with has()).
 */
export function celOverPodSpec(
  fn: (podSpec: string) => string,
  missing: string,
  root = 'object',
  kinds: readonly KindInfo[] = POD_KINDS,
): string {
  const byPath = new Map<string, string[]>();
  for (const k of kinds) {
    const path = k.podSpecPath!.join('.');
    byPath.set(path, [...(byPath.get(path) ?? []), k.kind]);
  }
  return [...byPath].reduceRight((rest, [path, names]) => {
    const steps = path.split('.');
    const guard = steps.map((_, i) => `has(${[root, ...steps.slice(0, i + 1)].join('.')})`).join(' && ');
    const kindTest = names.map((n) => `request.kind.kind == ${celString(n)}`).join(' || ');
    return `(${kindTest}) ? (${guard} ? ${fn(`${root}.${path}`)} : ${missing}) : ${rest}`;
  }, missing);
}
