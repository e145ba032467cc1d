import type { Review, ReviewMessage } from '../../engine/review-object.js';
import type { JsonPatchOp, KubeObject } from '../../engine/types.js';
import { describeObject, objectName } from '../../engine/verdict.js';
import { skipCounts, type InputProblem, type Skip } from '../../input/problems.js';

/** What `check` and `audit` found: the input to every output format. */
export interface Report {
  command: 'check' | 'audit' | 'preflight';
  objects: ReportedObject[];
  /** Input that could not be checked (check) or listed (audit). */
  problems: InputProblem[];
  /** check: files and documents skipped (a Helm chart's values, a kustomization, a template with --allow-skipped). */
  notices?: Skip[];
  /** audit: Pods, ReplicaSets and Jobs left out because their controller was evaluated instead. */
  reportedAtOwner: number;
  /** When the run started (audit: the PolicyReport timestamp). */
  startedAt: Date;
}

export type ObjectResult = 'deny' | 'warn' | 'pass';

export interface ReportedObject {
  /** check only: where the object was written. */
  file?: string;
  line?: number;
  /** check: the line of a field of the object, by JSON Pointer. */
  lineOf?: (pointer: string) => number;
  apiVersion: string;
  kind: string;
  /** '' for cluster-scoped objects. */
  namespace: string;
  name: string;
  uid?: string;
  result: ObjectResult;
  findings: ReviewMessage[];
  warnings: string[];
  patch: JsonPatchOp[];
  patchedBy: string[];
  /** What the patch changes, in words. */
  change?: string;
  skipped?: string;
  /** The object after mutation; kept only when an output prints it (`-o yaml`). */
  object?: KubeObject;
}

export interface Summary {
  objects: number;
  denied: number;
  warned: number;
  passed: number;
  errors: number;
  reportedAtOwner: number;
}

export function toReported(
  review: Review,
  keepObject: boolean,
  source?: { file: string; line: number; lineOf?: (pointer: string) => number },
): ReportedObject {
  const obj = review.object;
  const meta = obj.metadata ?? {};
  const warned =
    review.warnings.length > 0 || review.findings.some((f) => f.decision === 'warn' || f.decision === 'error');
  const out: ReportedObject = {
    ...(source ? { file: source.file, line: source.line, ...(source.lineOf ? { lineOf: source.lineOf } : {}) } : {}),
    apiVersion: obj.apiVersion ?? '',
    kind: review.request.gvk.kind,
    namespace: review.request.namespace,
    name: objectName(meta, ''),
    ...(typeof meta.uid === 'string' ? { uid: meta.uid } : {}),
    result: !review.allowed ? 'deny' : warned ? 'warn' : 'pass',
    findings: review.findings,
    warnings: review.warnings,
    patch: review.patch,
    patchedBy: review.patchedBy,
    ...(review.change !== undefined ? { change: review.change } : {}),
  };
  if (review.skipped !== undefined) out.skipped = review.skipped;
  if (keepObject) out.object = obj;
  return out;
}

export function summarize(report: Report): Summary {
  const count = (r: ObjectResult) => report.objects.filter((o) => o.result === r).length;
  return {
    objects: report.objects.length,
    denied: count('deny'),
    warned: count('warn'),
    passed: count('pass'),
    errors: report.problems.length,
    reportedAtOwner: report.reportedAtOwner,
  };
}

/**
 * 0 nothing denied, 1 something denied (or, with failOnWarn, warned about), 2 input that could not be checked (it
 * may hide a denial).
 */
export function exitCodeOf(report: Report, options: { failOnWarn?: boolean } = {}): number {
  if (report.problems.length > 0) return 2;
  return report.objects.some((o) => o.result === 'deny' || (options.failOnWarn && o.result === 'warn')) ? 1 : 0;
}

/** `N objects checked: D denied, W warned, P passed[, E input errors]`. */
export function summaryLine(report: Report): string {
  const s = summarize(report);
  const what = { check: 'checked', audit: 'audited', preflight: 'judged' }[report.command];
  const owner = s.reportedAtOwner > 0 ? ` (${s.reportedAtOwner} more reported at their controller)` : '';
  const errors = s.errors > 0 ? `, ${s.errors} input error${s.errors === 1 ? '' : 's'}` : '';
  const skipped = report.notices?.length ? `, ${skipCounts(report.notices)}` : '';
  return `${s.objects} object${s.objects === 1 ? '' : 's'} ${what}${owner}: ${s.denied} denied, ${s.warned} warned, ${s.passed} passed${errors}${skipped}`;
}

/** The line of the field a finding is about (the `protocol:` of the port), else the object's first line. */
export function findingLine(o: ReportedObject, f: ReviewMessage): number {
  return f.path !== undefined && o.lineOf ? o.lineOf(f.path) : (o.line ?? 0);
}

/** How a CI format grades a finding: what blocks the object is an error, a rule in audit mode only a note. */
export function findingLevel(o: ReportedObject, f: ReviewMessage): 'error' | 'warning' | 'note' {
  if (f.decision === 'deny' || (f.decision === 'error' && o.result === 'deny')) return 'error';
  return f.decision === 'audit' ? 'note' : 'warning';
}

/** `Service default/server`, as the rules' messages name it. */
export function objectLabel(o: Pick<ReportedObject, 'kind' | 'namespace' | 'name'>): string {
  return describeObject({ kind: o.kind, metadata: { name: o.name, namespace: o.namespace || undefined } });
}
