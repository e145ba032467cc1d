import type { ObjectReview, ReviewFinding } from '../../engine/review-object.js';
import type { JsonPatchOp, KubeObject } from '../../engine/types.js';
import { describeObject } from '../../engine/verdict.js';
import type { InputProblem } from '../manifests.js';

/** What `check` and `audit` found: the input to every output format. */
export interface Report {
  command: 'check' | 'audit';
  objects: ReportedObject[];
  /** Input that could not be checked (check) or listed (audit). */
  problems: InputProblem[];
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
  apiVersion: string;
  kind: string;
  /** '' for cluster-scoped objects. */
  namespace: string;
  name: string;
  uid?: string;
  result: ObjectResult;
  findings: ReviewFinding[];
  warnings: string[];
  patch: JsonPatchOp[];
  patchedBy: string[];
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

export function toReported(review: ObjectReview, keepObject: boolean, source?: { file: string; line: number }): ReportedObject {
  const obj = review.object;
  const meta = obj.metadata ?? {};
  const warned = review.warnings.length > 0 || review.findings.some((f) => f.decision === 'warn' || f.decision === 'error');
  const out: ReportedObject = {
    ...(source ? { file: source.file, line: source.line } : {}),
    apiVersion: obj.apiVersion ?? '',
    kind: review.request.gvk.kind,
    namespace: review.request.namespace,
    name: meta.name ?? (meta.generateName ? `${meta.generateName}*` : ''),
    ...(typeof meta.uid === 'string' ? { uid: meta.uid } : {}),
    result: !review.allowed ? 'deny' : warned ? 'warn' : 'pass',
    findings: review.findings,
    warnings: review.warnings,
    patch: review.patch,
    patchedBy: review.patchedBy,
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

/** 0 nothing denied, 1 something denied, 2 input that could not be checked (it may hide a denial). */
export function exitCodeOf(report: Report): number {
  if (report.problems.length > 0) return 2;
  return report.objects.some((o) => o.result === 'deny') ? 1 : 0;
}

/** `Service default/server`, as the rules' messages name it. */
export function objectLabel(o: Pick<ReportedObject, 'kind' | 'namespace' | 'name'>): string {
  return describeObject({ kind: o.kind, metadata: { name: o.name, namespace: o.namespace || undefined } });
}
