import { formatLocation } from '../manifests.js';
import { objectLabel, summarize, type Report, type ReportedObject } from './report.js';

/**
 * One line per finding, `file:line: Kind ns/name: rule-id DECISION: message` (audit: no file:line), then one
 * summary line. Grep-able and stable: CI logs and editors that jump to `file:line` read it as is.
 */
export function formatText(report: Report): string {
  const lines: string[] = [];
  for (const o of report.objects) {
    const where = o.file !== undefined ? `${formatLocation(o.file, o.line ?? 0)}: ` : '';
    for (const f of o.findings) lines.push(`${where}${objectLabel(o)}: ${f.rule} ${f.decision.toUpperCase()}: ${f.detail}`);
    // What the mutating webhook would rewrite (`-o yaml --mutate` prints the result).
    if (o.patch.length > 0) {
      lines.push(`${where}${objectLabel(o)}: ${o.patchedBy.join(', ')} MUTATE: ${o.patch.length} JSON Patch operation(s): ${describePatch(o)}`);
    }
  }
  lines.push(summaryLine(report));
  return `${lines.join('\n')}\n`;
}

function describePatch(o: ReportedObject): string {
  return o.patch.map((p) => `${p.op} ${p.path}`).join(', ');
}

function summaryLine(report: Report): string {
  const s = summarize(report);
  const what = report.command === 'check' ? 'checked' : 'audited';
  const owner = s.reportedAtOwner > 0 ? ` (${s.reportedAtOwner} more reported at their controller)` : '';
  const errors = s.errors > 0 ? `, ${s.errors} input error${s.errors === 1 ? '' : 's'}` : '';
  return `${s.objects} object${s.objects === 1 ? '' : 's'} ${what}${owner}: ${s.denied} denied, ${s.warned} warned, ${s.passed} passed${errors}`;
}
