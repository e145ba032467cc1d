import { formatLocation, type InputProblem } from '../../input/problems.js';
import { objectLabel, summarize, type Report, type ReportedObject } from './report.js';

/**
 * JUnit XML as CI systems read it (GitLab `artifacts:reports:junit`, GitHub test-report actions, Jenkins): a
 * testsuite per file, a testcase per object, `<failure>` for a denied object, `<error>` for input that could
 * not be checked, warnings in `<system-out>`.
 */
export function formatJunit(report: Report): string {
  const suites = new Map<string, { objects: ReportedObject[]; problems: InputProblem[] }>();
  const suite = (file: string) => suites.get(file) ?? suites.set(file, { objects: [], problems: [] }).get(file)!;
  for (const o of report.objects) suite(o.file ?? '').objects.push(o);
  for (const p of report.problems) suite(p.file).problems.push(p);

  const s = summarize(report);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="sctp-guard ${report.command}" tests="${s.objects + s.errors}" failures="${s.denied}" errors="${s.errors}">`,
  ];
  for (const [file, { objects, problems }] of suites) {
    const failures = objects.filter((o) => o.result === 'deny').length;
    out.push(
      `  <testsuite name="${esc(file)}" tests="${objects.length + problems.length}" failures="${failures}" errors="${problems.length}" timestamp="${report.startedAt.toISOString()}">`,
    );
    for (const o of objects) out.push(...testcase(file, o));
    for (const p of problems) {
      out.push(
        `    <testcase classname="${esc(file)}" name="${esc(formatLocation(p.file, p.line))}" file="${esc(p.file)}">`,
      );
      out.push(
        `      <error type="InputError" message="${esc(p.message)}">${escText(`${formatLocation(p.file, p.line)}: ${p.message}`)}</error>`,
      );
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}

function testcase(file: string, o: ReportedObject): string[] {
  const open = `    <testcase classname="${esc(file)}" name="${esc(objectLabel(o))}" file="${esc(file)}"${o.line ? ` line="${o.line}"` : ''}>`;
  const denied = o.findings.filter((f) => f.decision === 'deny' || (o.result === 'deny' && f.decision === 'error'));
  const others = o.findings.filter((f) => !denied.includes(f));
  if (denied.length === 0 && others.length === 0) return [open.replace(/>$/, '/>')];
  const lines = [open];
  if (denied.length > 0) {
    const first = denied[0]!;
    lines.push(
      `      <failure type="${esc(first.rule)}" message="${esc(first.detail)}">${escText(denied.map((f) => f.message).join('\n'))}</failure>`,
    );
  }
  if (others.length > 0) {
    lines.push(
      `      <system-out>${escText(others.map((f) => `${f.decision.toUpperCase()} ${f.message}`).join('\n'))}</system-out>`,
    );
  }
  lines.push('    </testcase>');
  return lines;
}

/** XML 1.0 text: control characters other than tab and newline are not allowed at all. */
function escText(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/** An attribute value keeps its line breaks only as character references. */
function esc(text: string): string {
  return escText(text).replace(/"/g, '&quot;').replace(/\n/g, '&#10;');
}
