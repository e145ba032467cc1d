import type { Rule } from '../../engine/types.js';
import type { InputProblem } from '../../input/problems.js';
import { findingLevel, findingLine, type Report } from './report.js';

/** SARIF 2.1.0 (OASIS), as GitHub code scanning and GitLab read it: https://docs.oasis-open.org/sarif/sarif/v2.1.0/ */
export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

const LEVEL = { error: 'error', warning: 'warning', note: 'note' } as const;

/**
 * One run, one `reportingDescriptor` per rule ID of the engine (so `ruleIndex` is stable whatever was found), one
 * result per finding located at the finding's field line, and input that could not be checked as tool execution
 * notifications (it is not a rule's finding).
 */
export function formatSarif(
  report: Report,
  rules: readonly Pick<Rule, 'id' | 'description' | 'defaultEnforcement'>[],
  version: string,
): string {
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const results = report.objects.flatMap((o) =>
    o.findings.map((f) => ({
      ruleId: f.rule,
      ...(index.has(f.rule) ? { ruleIndex: index.get(f.rule) } : {}),
      level: LEVEL[findingLevel(o, f)],
      message: { text: f.message },
      ...(o.file !== undefined ? { locations: [location(o.file, findingLine(o, f))] } : {}),
      properties: {
        object: { apiVersion: o.apiVersion, kind: o.kind, namespace: o.namespace, name: o.name },
        decision: f.decision,
        phase: f.phase,
      },
    })),
  );
  const log = {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'sctp-guard',
            version,
            rules: rules.map((r) => ({
              id: r.id,
              name: r.id,
              shortDescription: { text: r.description },
              defaultConfiguration: {
                level: r.defaultEnforcement === 'deny' ? 'error' : r.defaultEnforcement === 'warn' ? 'warning' : 'note',
              },
            })),
          },
        },
        invocations: [
          {
            executionSuccessful: report.problems.length === 0,
            toolExecutionNotifications: report.problems.map((p) => notification(p, 'error')),
            toolConfigurationNotifications: (report.notices ?? []).map((p) => notification(p, 'note')),
          },
        ],
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

function notification(p: InputProblem, level: 'error' | 'note') {
  return { level, message: { text: p.message }, locations: [location(p.file, p.line)] };
}

/** A relative URI reference: the path as given, percent-encoded (`<stdin>`, spaces). */
function location(file: string, line: number) {
  return {
    physicalLocation: {
      artifactLocation: { uri: encodeURI(file.split('\\').join('/')) },
      ...(line > 0 ? { region: { startLine: line } } : {}),
    },
  };
}
