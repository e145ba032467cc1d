import type { ReviewFinding } from '../../engine/review-object.js';
import type { KubeObject } from '../../engine/types.js';
import type { Report, ReportedObject } from './report.js';

/** The wg-policy report API (kubernetes-sigs/wg-policy-prototypes `policy-report/apis/wgpolicyk8s.io/v1alpha2`). */
export const POLICY_REPORT_API_VERSION = 'wgpolicyk8s.io/v1alpha2';
export const POLICY_REPORT_NAME = 'sctp-guard-audit';

const RESULT: Record<ReviewFinding['decision'], { result: 'fail' | 'warn' | 'error'; severity?: string; scored: boolean }> = {
  deny: { result: 'fail', severity: 'high', scored: true },
  // `audit` enforcement: the rule fails but only logs, as a Kyverno Audit policy's failure is reported.
  audit: { result: 'fail', severity: 'low', scored: true },
  warn: { result: 'warn', severity: 'medium', scored: false },
  error: { result: 'error', scored: true },
};

/**
 * One PolicyReport per namespace and one ClusterPolicyReport for cluster-scoped objects (MachineConfigs), ready for
 * `kubectl apply`. `results` lists only what failed, warned or errored: a pass entry per object would push a
 * big namespace's report past the API server's object size limit. `summary.pass` counts the objects that passed,
 * `summary.skip` those no rule applied to; namespaces where every object was skipped (excluded) get no report.
 */
export function policyReports(report: Report): KubeObject[] {
  const byNamespace = new Map<string, ReportedObject[]>();
  for (const o of report.objects) {
    const list = byNamespace.get(o.namespace);
    if (list) list.push(o);
    else byNamespace.set(o.namespace, [o]);
  }
  const timestamp = { seconds: Math.floor(report.startedAt.getTime() / 1000), nanos: 0 };
  const out: KubeObject[] = [];
  for (const [namespace, objects] of [...byNamespace].sort(([a], [b]) => a.localeCompare(b))) {
    if (objects.every((o) => o.skipped !== undefined)) continue;
    const results = objects.flatMap((o) =>
      o.findings.map((f) => {
        const r = RESULT[f.decision];
        return {
          source: 'sctp-guard',
          policy: f.rule,
          rule: f.rule,
          category: 'SCTP',
          ...(r.severity ? { severity: r.severity } : {}),
          timestamp,
          result: r.result,
          scored: r.scored,
          resources: [{ apiVersion: o.apiVersion, kind: o.kind, name: o.name, ...(namespace ? { namespace } : {}), ...(o.uid ? { uid: o.uid } : {}) }],
          message: f.message,
          properties: { phase: f.phase },
        };
      }),
    );
    const count = (r: string) => results.filter((x) => x.result === r).length;
    out.push({
      apiVersion: POLICY_REPORT_API_VERSION,
      kind: namespace ? 'PolicyReport' : 'ClusterPolicyReport',
      metadata: { name: POLICY_REPORT_NAME, ...(namespace ? { namespace } : {}), labels: { 'app.kubernetes.io/managed-by': 'sctp-guard' } },
      summary: {
        pass: objects.filter((o) => o.findings.length === 0 && o.skipped === undefined).length,
        fail: count('fail'),
        warn: count('warn'),
        error: count('error'),
        skip: objects.filter((o) => o.skipped !== undefined).length,
      },
      results,
    });
  }
  return out;
}
