import { findingLine, summarize, type Report } from './report.js';

export const REPORT_API_VERSION = 'sctp-guard.io/v1alpha1';

/**
 * The documented, stable JSON shape (docs/cli.md, "Output formats"): `summary`, then every object checked with
 * its `result` (deny | warn | pass) and `findings`, then `errors` for input that could not be checked.
 */
export function formatJson(report: Report): string {
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
      findings: o.findings.map((f) => ({
        rule: f.rule,
        phase: f.phase,
        decision: f.decision,
        message: f.message,
        ...(o.file !== undefined ? { line: findingLine(o, f) } : {}),
      })),
      warnings: o.warnings,
      patch: o.patch,
      ...(o.skipped !== undefined ? { skipped: o.skipped } : {}),
    })),
    errors: report.problems.map((p) => ({ file: p.file, line: p.line, message: p.message })),
    ...(report.notices
      ? { skipped: report.notices.map((p) => ({ file: p.file, line: p.line, message: p.message })) }
      : {}),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
