import { KubeError, type KubeApi } from '../cluster/kube-api.js';
import type { KubeObject } from '../engine/types.js';
import { apiPath } from '../util/kinds.js';
import { MANAGED_BY, REPORT_APIS, REPORT_NAME, type ReportApi, type ReportFormat } from './output/policyreport.js';

export interface WriteScope {
  /** `audit --namespace`: only this namespace's report is current, so only it may be found stale. */
  namespace?: string;
}

/** `policyreport.wgpolicyk8s.io/sctp-guard-audit -n telco created`: what was done, one line per report. */
export interface WriteOutcome {
  lines: string[];
}

const [[MANAGED_BY_KEY, MANAGED_BY_VALUE]] = Object.entries(MANAGED_BY) as [[string, string]];

function collectionPath(api: ReportApi, plural: string, namespace: string | undefined): string {
  return apiPath({ group: api.group, resource: plural }, api.version, namespace);
}

function label(api: ReportApi, kind: { kind: string }, namespace: string | undefined, verb = ''): string {
  return `${kind.kind.toLowerCase()}.${api.group}/${REPORT_NAME}${namespace ? ` -n ${namespace}` : ''}${verb ? ` ${verb}` : ''}`;
}

function notServed(api: ReportApi, plural: string, server: string): Error {
  const crds =
    api.group === 'openreports.io'
      ? 'the OpenReports CRDs (github.com/openreports/reports-api, config/crd)'
      : 'the PolicyReport CRDs (Kyverno and Policy Reporter ship them; github.com/kubernetes-sigs/wg-policy-prototypes, policy-report/crd/v1alpha2)';
  return new Error(
    `the API server at ${server} does not serve ${plural}.${api.group}/${api.version}: install ${crds}, or print the reports with -o and no --write-reports`,
  );
}

/** A write the API server refused, with what the RBAC needs when it is a 403. */
function failure(err: unknown): Error {
  if (err instanceof KubeError && err.kind === 'forbidden') {
    return new Error(
      `${err.message}; the audit's ServiceAccount needs get, list, create, patch and delete on the report kinds (deploy/components/reports/rbac.yaml)`,
    );
  }
  return err as Error;
}

/**
 * Writes each report by server-side apply (field manager sctp-guard), so a scheduled run converges on one report
 * per namespace whatever ran before; labels and annotations others put on a report are theirs and kept. A report of
 * the same name that another tool manages (its app.kubernetes.io/managed-by label) is never replaced: the run stops
 * with an error naming it. Then deletes the reports sctp-guard wrote earlier that this run did not produce (a
 * namespace now empty or excluded), in the audited scope only.
 */
export async function writeReports(
  kube: KubeApi,
  reports: KubeObject[],
  format: ReportFormat,
  scope: WriteScope = {},
): Promise<WriteOutcome> {
  const api: ReportApi = REPORT_APIS[format];
  const lines: string[] = [];
  const written = new Set<string>();
  for (const report of reports) {
    const namespace = report.metadata?.namespace;
    const kind = namespace ? api.namespaced : api.cluster;
    const path = `${collectionPath(api, kind.plural, namespace)}/${REPORT_NAME}`;
    lines.push(label(api, kind, namespace, await replaceOwn(kube, api, kind, path, report)));
    written.add(`${kind.plural}/${namespace ?? ''}`);
  }
  for (const kind of [api.namespaced, api.cluster]) {
    if (scope.namespace !== undefined && kind === api.cluster) continue;
    const collection = collectionPath(api, kind.plural, kind === api.namespaced ? scope.namespace : undefined);
    const stale: Array<string | undefined> = [];
    const listed = await kube
      .list(collection, { limit: 500, labelSelector: `${MANAGED_BY_KEY}=${MANAGED_BY_VALUE}` }, (item) => {
        const meta = (item as KubeObject).metadata;
        if (meta?.name === REPORT_NAME && !written.has(`${kind.plural}/${meta.namespace ?? ''}`))
          stale.push(meta.namespace);
      })
      .catch((err: unknown) => {
        throw failure(err);
      });
    if (!listed) {
      if (written.size === 0) continue;
      throw notServed(api, kind.plural, kube.server);
    }
    for (const namespace of stale) {
      await kube.delete(`${collectionPath(api, kind.plural, namespace)}/${REPORT_NAME}`).catch((err: unknown) => {
        throw failure(err);
      });
      lines.push(label(api, kind, namespace, 'deleted (nothing left to report)'));
    }
  }
  return { lines };
}

const CONFLICT_RETRIES = 3;

/**
 * Applies the report unless a report of that name belongs to someone else. The resourceVersion read is sent as a
 * precondition, so a report another tool took over in between is not overwritten either (409: read again).
 */
async function replaceOwn(
  kube: KubeApi,
  api: ReportApi,
  kind: { kind: string; plural: string },
  path: string,
  report: KubeObject,
): Promise<'created' | 'configured'> {
  for (let attempt = 1; ; attempt++) {
    try {
      const current = (await kube.read(path)) as KubeObject | undefined;
      const owner = current?.metadata?.labels?.[MANAGED_BY_KEY];
      if (current && owner !== MANAGED_BY_VALUE) {
        const by = owner ? `is managed by "${owner}" (${MANAGED_BY_KEY})` : `has no ${MANAGED_BY_KEY} label`;
        throw new Error(
          `${label(api, kind, report.metadata?.namespace)}: not replaced: a report of that name ${by}; sctp-guard replaces only the reports it created: rename or delete that one`,
        );
      }
      const precondition = current
        ? { metadata: { ...report.metadata, resourceVersion: current.metadata?.resourceVersion } }
        : {};
      return await kube.apply(path, { ...report, ...precondition } as Record<string, unknown>);
    } catch (err) {
      if (err instanceof KubeError && err.kind === 'not-found') throw notServed(api, kind.plural, kube.server);
      if (err instanceof KubeError && err.kind === 'conflict' && attempt < CONFLICT_RETRIES) continue;
      throw failure(err);
    }
  }
}
