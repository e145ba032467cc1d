import type { Finding, JsonPatchOp, KubeObject, RuleVerdict } from './types.js';

/** The longest warning we hand to kubectl; the API server truncates long ones and drops multi-line ones. */
export const WARNING_MAX = 119;

/** What a finding says, apart from its severity. */
export type FindingParts = Omit<Finding, 'severity'>;

export function pass(): RuleVerdict {
  return { findings: [], patch: [], annotations: {} };
}

/** A failed check: denied, warned or only logged, as the policy's enforcement for the rule says. */
export function violation(parts: FindingParts): RuleVerdict {
  return { findings: [{ severity: 'violation', ...parts }], patch: [], annotations: {} };
}

/** Worth telling the user, but never a denial. */
export function advisory(parts: FindingParts): RuleVerdict {
  return { findings: [{ severity: 'advisory', ...parts }], patch: [], annotations: {} };
}

export function patched(patch: JsonPatchOp[], findings: Finding[] = []): RuleVerdict {
  return { findings, patch, annotations: {} };
}

export function oneLine(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return flat.length <= WARNING_MAX ? flat : `${flat.slice(0, WARNING_MAX - 1)}…`;
}

/** `Service project1/sctpserver`, `MachineConfig load-sctp-module`: how every message names the object. */
export function describeObject(obj: KubeObject | null | undefined, fallbackKind = 'object', fallbackNamespace = ''): string {
  const kind = obj?.kind ?? fallbackKind;
  const meta = obj?.metadata;
  const name = meta?.name ?? (meta?.generateName ? `${meta.generateName}*` : '<unnamed>');
  const ns = meta?.namespace ?? fallbackNamespace;
  return ns ? `${kind} ${ns}/${name}` : `${kind} ${name}`;
}

/** `[rule-id] Kind ns/name: `, the prefix the engine writes before every message and warning of a rule. */
export function messagePrefix(ruleId: string, req: { object: KubeObject | null; oldObject: KubeObject | null; gvk: { kind: string }; namespace: string }): string {
  return `[${ruleId}] ${describeObject(req.object ?? req.oldObject, req.gvk.kind, req.namespace)}: `;
}

/** The composed texts of one finding, under a prefix from messagePrefix. */
export function composeFinding(prefix: string, f: FindingParts): { message: string; detail: string; summary: string } {
  const detail = `${f.text}${f.fix !== undefined ? ` Fix: ${f.fix}.` : ''}${f.context !== undefined ? ` ${f.context}` : ''}`;
  return { message: `${prefix}${detail}`, detail, summary: oneLine(`${prefix}${f.summary}`) };
}
