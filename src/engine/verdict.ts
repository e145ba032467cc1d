import type { Finding, KubeObject, ObjectMeta, Verdict } from './types.js';

/** The longest warning we hand to kubectl; the API server truncates long ones and drops multi-line ones. */
export const WARNING_MAX = 119;

/** What a finding says, apart from its severity. */
export type FindingParts = Omit<Finding, 'severity'>;

export function pass(): Verdict {
  return { findings: [], annotations: {} };
}

/** A failed check: denied, warned or only logged, as the policy's enforcement for the rule says. */
export function violation(parts: FindingParts): Verdict {
  return { findings: [{ severity: 'violation', ...parts }], annotations: {} };
}

/** Worth telling the user, but never a denial. */
export function advisory(parts: FindingParts): Verdict {
  return { findings: [{ severity: 'advisory', ...parts }], annotations: {} };
}

/** A mutation: `edit` changes a copy of the object; the engine turns the change into the JSON Patch. */
export function edited(edit: (object: KubeObject) => void, findings: Finding[] = []): Verdict {
  return { findings, edit, annotations: {} };
}

/** Control characters, runs of them as one space. */
const CONTROL_RUNS = /[\u0000-\u001f\u007f]+/g;

/** Whether the text has a control character: most have none, and a loop is cheaper than the regex's replace. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

const flatten = (text: string): string => (hasControl(text) ? text.replace(CONTROL_RUNS, ' ') : text).trim();
const cut = (flat: string): string => (flat.length <= WARNING_MAX ? flat : `${flat.slice(0, WARNING_MAX - 1)}…`);

/**
 * The text on one line of at most WARNING_MAX characters: control characters out (runs of them as one space),
 * trimmed, cut with an ellipsis. A long text (a denial's whole message) is flattened from its head first: the
 * flattened head is the start of the flattened whole, so once it is longer than the cut, the rest is not scanned.
 */
export function oneLine(text: string): string {
  if (text.length > 2 * WARNING_MAX) {
    const head = flatten(text.slice(0, 2 * WARNING_MAX));
    if (head.length > WARNING_MAX) return cut(head);
  }
  return cut(flatten(text));
}

/**
 * How every message names an object: the first of these metadata fields that is set and not empty, with its
 * suffix (a generateName gets `*`: the API server appends random characters), else UNNAMED. The one definition:
 * `objectName` reads it here, and the ValidatingAdmissionPolicies' CEL is generated from it (src/admission/vap.ts).
 */
export const NAME_SOURCES = [
  { field: 'name', suffix: '' },
  { field: 'generateName', suffix: '*' },
] as const;
export const UNNAMED = '<unnamed>';

export function objectName(meta: ObjectMeta | undefined, unnamed: string = UNNAMED): string {
  for (const { field, suffix } of NAME_SOURCES) {
    const value = meta?.[field];
    if (typeof value === 'string' && value !== '') return `${value}${suffix}`;
  }
  return unnamed;
}

/** `Service project1/sctpserver`, `MachineConfig load-sctp-module`: how every message names the object. */
export function describeObject(
  obj: KubeObject | null | undefined,
  fallbackKind = 'object',
  fallbackNamespace = '',
): string {
  const kind = obj?.kind ?? fallbackKind;
  const ns = obj?.metadata?.namespace ?? fallbackNamespace;
  const name = objectName(obj?.metadata);
  return ns ? `${kind} ${ns}/${name}` : `${kind} ${name}`;
}

/** `[rule-id] Kind ns/name: `, the prefix the engine writes before every message and warning of a rule. */
export function messagePrefix(
  ruleId: string,
  req: { object: KubeObject | null; oldObject: KubeObject | null; gvk: { kind: string }; namespace: string },
): string {
  return `[${ruleId}] ${describeObject(req.object ?? req.oldObject, req.gvk.kind, req.namespace)}: `;
}

/** The composed texts of one finding, under a prefix from messagePrefix. */
export function composeFinding(prefix: string, f: FindingParts): { message: string; detail: string; summary: string } {
  const detail = `${f.text}${f.fix !== undefined ? ` Fix: ${f.fix}.` : ''}${f.context !== undefined ? ` ${f.context}` : ''}`;
  return { message: `${prefix}${detail}`, detail, summary: oneLine(`${prefix}${f.summary}`) };
}
