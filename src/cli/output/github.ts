import { formatLocation, type InputProblem } from '../../input/problems.js';
import { findingLevel, findingLine, objectLabel, summaryLine, type Report } from './report.js';

/**
 * GitHub Actions workflow commands (`::error file=…,line=…,title=…::message`), one per finding and per input
 * problem, which the runner turns into annotations on the pull request's diff; then the summary line. Escaping as
 * the runner reads it (actions/toolkit `packages/core/src/command.ts`): data `%`, CR, LF; properties also `:` `,`.
 */
export function formatGithub(report: Report): string {
  const lines: string[] = [];
  for (const o of report.objects) {
    for (const f of o.findings) {
      const level = findingLevel(o, f) === 'note' ? 'notice' : findingLevel(o, f);
      lines.push(
        command(
          level,
          {
            file: o.file,
            line: o.file !== undefined ? findingLine(o, f) : undefined,
            title: `${f.rule}: ${objectLabel(o)}`,
          },
          f.message,
        ),
      );
    }
  }
  for (const p of report.problems) lines.push(problem('error', p));
  for (const p of report.notices ?? []) lines.push(problem('notice', p));
  lines.push(summaryLine(report));
  return `${lines.join('\n')}\n`;
}

function problem(level: 'error' | 'notice', p: InputProblem): string {
  return command(
    level,
    { file: p.file, line: p.line > 0 ? p.line : undefined, title: 'sctp-guard input' },
    `${formatLocation(p.file, p.line)}: ${p.message}`,
  );
}

function command(level: string, props: { file?: string; line?: number; title: string }, message: string): string {
  const list = Object.entries(props)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`);
  return `::${level} ${list.join(',')}::${escapeData(message)}`;
}

function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
