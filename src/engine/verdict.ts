import type { Finding, JsonPatchOp, KubeObject, RuleVerdict } from './types.js';

/** The longest warning we hand to kubectl; the API server truncates long ones and drops multi-line ones. */
export const WARNING_MAX = 119;

export function pass(): RuleVerdict {
  return { findings: [], patch: [], annotations: {} };
}

/** A failed check: denied, warned or only logged, as the policy's enforcement for the rule says. */
export function violation(message: string, summary = message): RuleVerdict {
  return { findings: [{ severity: 'violation', message, summary: oneLine(summary) }], patch: [], annotations: {} };
}

/** Worth telling the user, but never a denial. */
export function advisory(message: string, summary = message): RuleVerdict {
  return { findings: [{ severity: 'advisory', message, summary: oneLine(summary) }], patch: [], annotations: {} };
}

export function patched(patch: JsonPatchOp[], findings: Finding[] = []): RuleVerdict {
  return { findings, patch, annotations: {} };
}

/** Several verdicts of one rule (one per port, per listener...) as one. */
export function combine(...verdicts: RuleVerdict[]): RuleVerdict {
  const out = pass();
  for (const v of verdicts) {
    out.findings.push(...v.findings);
    out.patch.push(...v.patch);
    Object.assign(out.annotations, v.annotations);
  }
  return out;
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
