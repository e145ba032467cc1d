import { formatLocation } from '../../input/problems.js';
import { findingLine, objectLabel, summaryLine, type Report } from './report.js';

const COLOUR = {
  DENY: '\u001b[31m',
  ERROR: '\u001b[31m',
  WARN: '\u001b[33m',
  AUDIT: '\u001b[36m',
  MUTATE: '\u001b[36m',
} as const;
const RESET = '\u001b[0m';

export interface TextOptions {
  /** ANSI colour for the decisions (a terminal that allows it: see useColour). */
  colour?: boolean;
  /** The closing summary line (off with --quiet). */
  summary?: boolean;
}

/**
 * One line per finding, `file:line: Kind ns/name: rule-id DECISION: message` (audit: no file:line; the line is the
 * offending field's when the YAML has it), then one summary line. Grep-able and stable: CI logs and editors that jump
 * to `file:line` read it as is.
 */
export function formatText(report: Report, options: TextOptions = {}): string {
  const paint = (word: keyof typeof COLOUR) => (options.colour ? `${COLOUR[word]}${word}${RESET}` : word);
  const lines: string[] = [];
  for (const o of report.objects) {
    const where = (line: number) => (o.file !== undefined ? `${formatLocation(o.file, line)}: ` : '');
    for (const f of o.findings) {
      lines.push(
        `${where(findingLine(o, f))}${objectLabel(o)}: ${f.rule} ${paint(f.decision.toUpperCase() as keyof typeof COLOUR)}: ${f.detail}`,
      );
    }
    // What the mutating webhook would rewrite (`-o yaml --mutate` prints the result).
    if (o.patch.length > 0) {
      lines.push(
        `${where(o.line ?? 0)}${objectLabel(o)}: ${o.patchedBy.join(', ')} ${paint('MUTATE')}: ${o.change ?? `${o.patch.length} JSON Patch operation(s)`}`,
      );
    }
  }
  if (options.summary !== false) lines.push(summaryLine(report));
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}
