import { stringify } from 'yaml';
import { formatLocation } from '../../input/problems.js';
import { findingLine, objectLabel, summaryLine, type Report } from './report.js';

/**
 * TAP version 14 (testanything.org): a test point per object (`not ok` when denied) and per input that could not
 * be checked; findings in the point's YAML diagnostic block, so a TAP consumer shows them with the failure.
 */
export function formatTap(report: Report): string {
  const points: string[] = [];
  let n = 0;
  for (const o of report.objects) {
    const where = o.file !== undefined ? `${formatLocation(o.file, o.line ?? 0)} ` : '';
    const ok = o.result !== 'deny';
    points.push(
      `${ok ? 'ok' : 'not ok'} ${++n} - ${escape(`${where}${objectLabel(o)}`)}${o.skipped !== undefined ? ` # SKIP ${escape(o.skipped)}` : ''}`,
    );
    if (o.findings.length > 0) {
      const diag = {
        severity: ok ? 'comment' : 'fail',
        findings: o.findings.map((f) => ({
          rule: f.rule,
          decision: f.decision,
          message: f.message,
          ...(o.file !== undefined ? { at: formatLocation(o.file, findingLine(o, f)) } : {}),
        })),
      };
      points.push(yamlBlock(diag));
    }
  }
  for (const p of report.problems) {
    points.push(`not ok ${++n} - ${escape(formatLocation(p.file, p.line))}`);
    points.push(yamlBlock({ severity: 'fail', message: p.message }));
  }
  return `TAP version 14\n1..${n}\n${points.join('\n')}${points.length ? '\n' : ''}# ${summaryLine(report)}\n`;
}

/** `#` starts a directive and `\` escapes in a TAP description. */
function escape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/#/g, '\\#').replace(/\n/g, ' ');
}

function yamlBlock(value: object): string {
  const body = stringify(value, { lineWidth: 0 })
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`);
  return ['  ---', ...body, '  ...'].join('\n');
}
