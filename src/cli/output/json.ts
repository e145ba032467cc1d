import { summarize, type Report } from './report.js';

export const REPORT_API_VERSION = 'sctp-guard.io/v1alpha1';

/**
 * The documented, stable JSON shape (docs/cli.md, "Output formats"): `summary`, then every object checked with
 * its `result` (deny | warn | pass) and `findings`, then `errors` for input that could not be checked.
 * `mutated` (the object after the mutating rules) is there only with `--mutate`.
 */
export function formatJson(report: Report, options: { mutate?: boolean } = {}): string {
  const doc = {
    apiVersion: REPORT_API_VERSION,
    kind: report.command === 'check' ? 'CheckReport' : 'AuditReport',
    summary: summarize(report),
    objects: report.objects.map((o) => ({
      ...(o.file !== undefined ? { file: o.file, line: o.line } : {}),
      apiVersion: o.apiVersion,
      kind: o.kind,
      namespace: o.namespace,
      name: o.name,
      result: o.result,
      findings: o.findings.map((f) => ({ rule: f.rule, phase: f.phase, decision: f.decision, message: f.message })),
      warnings: o.warnings,
      patch: o.patch,
      ...(o.skipped !== undefined ? { skipped: o.skipped } : {}),
      ...(options.mutate && o.object ? { mutated: o.object } : {}),
    })),
    errors: report.problems.map((p) => ({ file: p.file, line: p.line, message: p.message })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
