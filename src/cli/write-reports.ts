import { statusText, type KubeApi, type KubeResponse } from '../cluster/kube-api.js';
import type { KubeObject } from '../engine/types.js';
import { apiPath } from '../util/kinds.js';
import { MANAGED_BY, REPORT_APIS, REPORT_NAME, type ReportApi, type ReportFormat } from './output/policyreport.js';

/** The requests the writer makes: the API helper on the kubeconfig's credentials, or a test double. */
export type KubeRequests = Pick<KubeApi, 'server' | 'send'>;

export interface WriteScope {
  /** `audit --namespace`: only this namespace's report is current, so only it may be found stale. */
  namespace?: string;
}

/** `policyreport.wgpolicyk8s.io/sctp-guard-audit -n telco created`: what was done, one line per report. */
export interface WriteOutcome {
  lines: string[];
}

function collectionPath(api: ReportApi, plural: string, namespace: string | undefined): string {
  return apiPath({ group: api.group, resource: plural }, api.version, namespace);
}

function label(api: ReportApi, kind: { kind: string }, namespace: string | undefined, verb: string): string {
  return `${kind.kind.toLowerCase()}.${api.group}/${REPORT_NAME}${namespace ? ` -n ${namespace}` : ''} ${verb}`;
}

function notServed(api: ReportApi, plural: string, server: string): Error {
  const crds = api.group === 'openreports.io' ? 'the OpenReports CRDs (github.com/openreports/reports-api, config/crd)' : 'the PolicyReport CRDs (Kyverno and Policy Reporter ship them; github.com/kubernetes-sigs/wg-policy-prototypes, policy-report/crd/v1alpha2)';
  return new Error(`the API server at ${server} does not serve ${plural}.${api.group}/${api.version}: install ${crds}, or print the reports with -o and no --write-reports`);
}

function failure(action: string, answer: KubeResponse): Error {
  const rbac = answer.status === 403 ? "; the audit's ServiceAccount needs get, list, create, update and delete on the report kinds (deploy/components/reports/rbac.yaml)" : '';
  const why = statusText(answer) + rbac;
  return new Error(`${action}: ${why}`);
}

/**
 * Creates or replaces each report by name (GET, then POST or PUT with the resourceVersion read, again on a 409
 * conflict), so a scheduled run converges on one report per namespace whatever ran before. Then deletes the
 * reports sctp-guard wrote earlier that this run did not produce (a namespace now empty or excluded), in the
 * audited scope only. Labels and annotations others put on a report are kept.
 */
export async function writeReports(kube: KubeRequests, reports: KubeObject[], format: ReportFormat, scope: WriteScope = {}): Promise<WriteOutcome> {
  const api: ReportApi = REPORT_APIS[format];
  const lines: string[] = [];
  const written = new Set<string>();
  for (const report of reports) {
    const namespace = report.metadata?.namespace;
    const kind = namespace ? api.namespaced : api.cluster;
    const collection = collectionPath(api, kind.plural, namespace);
    lines.push(label(api, kind, namespace, await upsert(kube, api, kind.plural, collection, report)));
    written.add(`${kind.plural}/${namespace ?? ''}`);
  }
  const selector = Object.entries(MANAGED_BY).map(([k, v]) => `${k}=${v}`).join(',');
  for (const kind of [api.namespaced, api.cluster]) {
    if (scope.namespace !== undefined && kind === api.cluster) continue;
    const collection = collectionPath(api, kind.plural, kind === api.namespaced ? scope.namespace : undefined);
    const listed = await kube.send('GET', collection, { query: { labelSelector: selector } });
    if (listed.status === 404) {
      if (written.size === 0) continue;
      throw notServed(api, kind.plural, kube.server);
    }
    if (listed.status !== 200) throw failure(`list ${collection}`, listed);
    for (const item of (listed.body as { items?: KubeObject[] }).items ?? []) {
      const namespace = item.metadata?.namespace;
      if (item.metadata?.name !== REPORT_NAME || written.has(`${kind.plural}/${namespace ?? ''}`)) continue;
      const path = `${collectionPath(api, kind.plural, namespace)}/${REPORT_NAME}`;
      const deleted = await kube.send('DELETE', path);
      if (deleted.status !== 200 && deleted.status !== 202 && deleted.status !== 404) throw failure(`delete ${path}`, deleted);
      lines.push(label(api, kind, namespace, 'deleted (nothing left to report)'));
    }
  }
  return { lines };
}

async function upsert(kube: KubeRequests, api: ReportApi, plural: string, collection: string, report: KubeObject): Promise<'created' | 'configured'> {
  const path = `${collection}/${REPORT_NAME}`;
  for (let attempt = 0; ; attempt++) {
    const current = await kube.send('GET', path);
    if (current.status === 404) {
      const created = await kube.send('POST', collection, { body: report });
      if (created.status === 201 || created.status === 200) return 'created';
      if (created.status === 404) throw notServed(api, plural, kube.server);
      if (created.status !== 409 || attempt > 0) throw failure(`create ${path}`, created);
      continue;
    }
    if (current.status !== 200) throw failure(`get ${path}`, current);
    const meta = (current.body as KubeObject).metadata ?? {};
    const replacement = {
      ...report,
      metadata: {
        ...report.metadata,
        resourceVersion: meta.resourceVersion,
        labels: { ...meta.labels, ...report.metadata?.labels },
        ...(meta.annotations ? { annotations: meta.annotations } : {}),
      },
    };
    const replaced = await kube.send('PUT', path, { body: replacement });
    if (replaced.status === 200) return 'configured';
    if (replaced.status !== 409 || attempt > 0) throw failure(`replace ${path}`, replaced);
  }
}
