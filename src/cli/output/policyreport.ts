import type { ReviewMessage } from '../../engine/review-object.js';
import type { KubeObject } from '../../engine/types.js';
import type { Report, ReportedObject } from './report.js';

export interface ReportApi {
  group: string;
  version: string;
  /** The kind for a namespace's report and its resource name. */
  namespaced: { kind: string; plural: string };
  /** The kind for cluster-scoped objects (MachineConfigs) and its resource name. */
  cluster: { kind: string; plural: string };
  /** OpenReports names the producer on the report as well as on each result. */
  reportSource: boolean;
}

/**
 * The report APIs `audit` writes: the wg-policy API (kubernetes-sigs/wg-policy-prototypes
 * `policy-report/crd/v1alpha2`) and its successor OpenReports (openreports/reports-api `config/crd`,
 * `openreports.io/v1alpha1`), where Kyverno and Policy Reporter are moving. The result shape is the same.
 */
export const REPORT_APIS = {
  policyreport: {
    group: 'wgpolicyk8s.io',
    version: 'v1alpha2',
    namespaced: { kind: 'PolicyReport', plural: 'policyreports' },
    cluster: { kind: 'ClusterPolicyReport', plural: 'clusterpolicyreports' },
    reportSource: false,
  },
  openreports: {
    group: 'openreports.io',
    version: 'v1alpha1',
    namespaced: { kind: 'Report', plural: 'reports' },
    cluster: { kind: 'ClusterReport', plural: 'clusterreports' },
    reportSource: true,
  },
} as const satisfies Record<string, ReportApi>;

export type ReportFormat = keyof typeof REPORT_APIS;

export function isReportFormat(format: string): format is ReportFormat {
  return Object.hasOwn(REPORT_APIS, format);
}
export const REPORT_NAME = 'sctp-guard-audit';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'sctp-guard' } as const;
const SOURCE = 'sctp-guard';

const RESULT: Record<
  ReviewMessage['decision'],
  { result: 'fail' | 'warn' | 'error'; severity?: string; scored: boolean }
> = {
  deny: { result: 'fail', severity: 'high', scored: true },
  // `audit` enforcement: the rule fails but only logs, as a Kyverno Audit policy's failure is reported.
  audit: { result: 'fail', severity: 'low', scored: true },
  warn: { result: 'warn', severity: 'medium', scored: false },
  error: { result: 'error', scored: true },
};

/**
 * One namespaced report per namespace and one cluster report for cluster-scoped objects (MachineConfigs), ready
 * for `kubectl apply` or `audit --write-reports`. `results` lists only what failed, warned or errored: a pass entry
 * per object would push a big namespace's report past the API server's object size limit. `summary.pass` counts
 * the objects that passed, `summary.skip` those no rule applied to; namespaces where every object was skipped
 * (excluded) get no report.
 */
export function policyReports(report: Report, format: ReportFormat = 'policyreport'): KubeObject[] {
  const api: ReportApi = REPORT_APIS[format];
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
          source: SOURCE,
          policy: f.rule,
          rule: f.rule,
          category: 'SCTP',
          ...(r.severity ? { severity: r.severity } : {}),
          timestamp,
          result: r.result,
          scored: r.scored,
          resources: [
            {
              apiVersion: o.apiVersion,
              kind: o.kind,
              name: o.name,
              ...(namespace ? { namespace } : {}),
              ...(o.uid ? { uid: o.uid } : {}),
            },
          ],
          message: f.message,
          properties: { phase: f.phase },
        };
      }),
    );
    const count = (r: string) => results.filter((x) => x.result === r).length;
    out.push({
      apiVersion: `${api.group}/${api.version}`,
      kind: namespace ? api.namespaced.kind : api.cluster.kind,
      metadata: { name: REPORT_NAME, ...(namespace ? { namespace } : {}), labels: { ...MANAGED_BY } },
      ...(api.reportSource ? { source: SOURCE } : {}),
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
