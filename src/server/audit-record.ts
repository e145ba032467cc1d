import type { EngineRequest, Phase } from '../engine/engine.js';
import { describePatch } from '../engine/patch-summary.js';
import type { Decision } from '../engine/types.js';
import { objectName } from '../engine/verdict.js';

/**
 * One structured line per admission decision. It names the object and what each rule decided, never the
 * object itself (a Secret-bearing or 500 KB object has no place in a log).
 */
export interface AuditRecord {
  audit: 'admission';
  uid: string;
  phase: Phase;
  kind: string;
  group: string;
  namespace: string;
  name: string;
  operation: string;
  user: string;
  dryRun: boolean;
  decision: 'allow' | 'deny' | 'warn';
  rules: Array<{ rule: string; decision: string; message?: string }>;
  patched: boolean;
  /** What the patch changes, in words (patch-summary.ts): `spec.config: Ignition 2.2.0 → 3.4.0 (rewritten: …)`. */
  change?: string;
  skipped?: string;
  /** Age of the cluster state the decision read (seconds; 0 while informers are healthy). */
  clusterStateAgeSeconds?: number;
  latencyMs: number;
}

export function auditRecord(args: {
  uid: string;
  phase: Phase;
  request: EngineRequest;
  decision: Decision;
  user: string;
  latencyMs: number;
  name?: string;
  clusterStateAgeSeconds?: number;
}): AuditRecord {
  const { request, decision } = args;
  const obj = request.object ?? request.oldObject;
  const record: AuditRecord = {
    audit: 'admission',
    uid: args.uid,
    phase: args.phase,
    kind: request.gvk.kind,
    group: request.gvk.group,
    namespace: request.namespace,
    name: args.name || objectName(obj?.metadata, ''),
    operation: request.operation,
    user: args.user,
    dryRun: request.dryRun,
    decision: !decision.allowed ? 'deny' : decision.warnings.length > 0 ? 'warn' : 'allow',
    rules: decision.results.map((r) =>
      r.findings.length > 0
        ? { rule: r.rule, decision: r.decision, message: r.findings.map((f) => f.message).join(' ') }
        : { rule: r.rule, decision: r.decision },
    ),
    patched: decision.patch.length > 0,
    latencyMs: Math.round(args.latencyMs * 1000) / 1000,
  };
  if (decision.patch.length > 0) record.change = describePatch(request.object, decision.patchedObject, decision.patch);
  if (decision.skipped) record.skipped = decision.skipped;
  if (args.clusterStateAgeSeconds !== undefined) record.clusterStateAgeSeconds = args.clusterStateAgeSeconds;
  return record;
}
