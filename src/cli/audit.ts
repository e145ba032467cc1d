// Type-only: @kubernetes/client-node takes most of a second to load, so it is loaded when a command needs a cluster.
import type { KubeConfig } from '@kubernetes/client-node';
import { Option, type Command } from 'commander';
import type { ClusterSnapshot } from '../cluster/snapshot.js';
import { Engine } from '../engine/engine.js';
import { reviewObject } from '../engine/review-object.js';
import { isClusterScoped, kindInfo } from '../util/kinds.js';
import type { KubeObject } from '../engine/types.js';
import type { Policy } from '../policy/types.js';
import { ALL_RULES } from '../rules/index.js';
import { createLogger } from '../server/logger.js';
import { formatProblem } from './manifests.js';
import { commandPolicy, positiveInt } from './options.js';
import { formatJson } from './output/json.js';
import { policyReports } from './output/policyreport.js';
import { exitCodeOf, summarize, toReported, type Report } from './output/report.js';
import { formatText } from './output/text.js';
import { formatYamlStream } from './output/yaml.js';

export const AUDIT_FORMATS = ['text', 'json', 'policyreport'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];
export const DEFAULT_PAGE_SIZE = 500;

export interface AuditOptions {
  kubeconfig?: string;
  config?: string;
  output: AuditFormat;
  namespace?: string;
  pageSize: number;
}

/** A resource the audit lists. `versions` in order of preference: the first one the cluster serves is used. */
export interface AuditedResource {
  group: string;
  versions: string[];
  plural: string;
  kind: string;
  namespaced: boolean;
  /** Cap on the page size: rendered MachineConfigs are hundreds of KB each. */
  maxPageSize?: number;
}

/** Controllers before what they own, so that ownership is known as the objects stream in. */
const OWNERS_FIRST = ['CronJob', 'Job', 'Deployment', 'ReplicaSet', 'ReplicationController', 'StatefulSet', 'DaemonSet', 'Pod'];


/**
 * What the audit lists: every resource an enabled rule reads, from the rules' own `matches` (the declaration that
 * also feeds the webhook configurations), owners first so that a Pod, ReplicaSet or Job whose controller was
 * already listed is reported once, at the controller (whose template is what a re-apply would send).
 */
export function auditedResources(engine: Engine): AuditedResource[] {
  const byResource = new Map<string, AuditedResource>();
  for (const rule of engine.rules) {
    for (const m of rule.matches) {
      for (const { kind, resource } of m.kinds) {
        if (!engine.watches(rule.phase, m.group, kind)) continue;
        const key = `${m.group}/${resource}`;
        const entry = byResource.get(key) ?? { group: m.group, versions: [], plural: resource, kind, namespaced: !isClusterScoped(kind), maxPageSize: kindInfo(m.group, kind)?.maxPageSize };
        for (const v of m.versions) if (!entry.versions.includes(v)) entry.versions.push(v);
        byResource.set(key, entry);
      }
    }
  }
  const rank = (r: AuditedResource) => (OWNERS_FIRST.includes(r.kind) ? OWNERS_FIRST.indexOf(r.kind) : OWNERS_FIRST.length);
  return [...byResource.values()].sort((a, b) => rank(a) - rank(b));
}

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('evaluate what is in a live cluster as if it were applied today (exit 0 nothing denied, 1 something denied, 2 error)')
    .option('--kubeconfig <file>', 'kubeconfig (default: $KUBECONFIG, then the in-cluster service account)')
    .option('--config <file>', 'policy file (YAML); the openshift-baremetal preset without one')
    .addOption(new Option('-o, --output <format>', 'output format').choices(AUDIT_FORMATS).default('text'))
    .option('--namespace <ns>', 'audit only this namespace (cluster-scoped MachineConfigs are then left out)')
    .option('--page-size <n>', 'objects per list request (limit/continue pagination)', positiveInt, DEFAULT_PAGE_SIZE)
    .action(async (opts: AuditOptions) => {
      process.exitCode = await audit(opts);
    });
}

export async function audit(opts: AuditOptions): Promise<number> {
  const policy = commandPolicy(opts.config);
  const engine = new Engine(ALL_RULES, policy);
  const kubeConfig = await requireKubeConfig(opts.kubeconfig);
  const snapshot = await liveSnapshot(kubeConfig, opts.kubeconfig, policy);
  const report: Report = { command: 'audit', objects: [], problems: [], reportedAtOwner: 0, startedAt: new Date() };
  const progress = new Progress(process.stderr);
  // Controllers seen so far (`Kind/ns/name`); a Pod, ReplicaSet or Job they control is reported at them.
  const listed = new Set<string>();
  const resources = auditedResources(engine).filter((r) => r.namespaced || opts.namespace === undefined);

  for (const resource of resources) {
    try {
      const found = await listResource(kubeConfig, resource, opts, (items) => {
        for (const object of items) {
          listed.add(ownerKey(object.kind, object.metadata?.namespace, object.metadata?.name));
          if (controlledByListed(object, listed)) {
            report.reportedAtOwner++;
            continue;
          }
          report.objects.push(toReported(reviewObject(engine, snapshot, object), false));
        }
        progress.update(resource.plural, report);
      });
      if (!found) progress.note(`${resourceLabel(resource)} not served by this cluster: skipped`);
    } catch (err) {
      report.problems.push({ file: resourceLabel(resource), line: 0, message: (err as Error).message });
    }
  }
  progress.done();

  for (const p of report.problems) process.stderr.write(`sctp-guard: audit: ${formatProblem(p)}\n`);
  if (opts.output === 'json') process.stdout.write(formatJson(report));
  else if (opts.output === 'policyreport') process.stdout.write(formatYamlStream(policyReports(report)));
  else process.stdout.write(formatText(report));
  return exitCodeOf(report);
}

/** The kubeconfig to use, or a clear error when there is none. */
export async function requireKubeConfig(file: string | undefined, context?: string): Promise<KubeConfig> {
  const { liveKubeConfig } = await import('../cluster/live-source.js');
  const kubeConfig = await liveKubeConfig({ kubeconfig: file, ...(context ? { context } : {}) });
  if (!kubeConfig?.getCurrentCluster()) throw new Error('no cluster to talk to: pass --kubeconfig, set KUBECONFIG, write ~/.kube/config, or run in a cluster');
  return kubeConfig;
}

/**
 * The cluster state once (informers started, synced, stopped), after one quick request that fails fast on an
 * unreachable or unhealthy server or rejected credentials instead of waiting out the informers' retries.
 */
export async function liveSnapshot(kubeConfig: KubeConfig, kubeconfigFile: string | undefined, policy: Policy, context?: string): Promise<ClusterSnapshot> {
  const response = await kubeGet(kubeConfig, '/version');
  const server = kubeConfig.getCurrentCluster()!.server;
  if (response.status === 401 || response.status === 403) {
    throw new Error(`the API server at ${server} rejected the credentials (${response.status}): ${response.message}`);
  }
  if (response.status >= 500) throw new Error(`the API server at ${server} is not serving (${response.status}): ${response.message}`);
  // Informer warnings (a CRD that is not installed) are expected here; only errors reach stderr.
  const { takeLiveSnapshot } = await import('../cluster/live-source.js');
  return takeLiveSnapshot({ kubeconfig: kubeconfigFile, ...(context ? { context } : {}), logger: createLogger('error', 2), stalenessLimitSeconds: policy.stalenessLimitSeconds });
}

interface KubeResponse {
  status: number;
  body: unknown;
  message: string;
}

/** One GET with the kubeconfig's credentials and TLS settings; a network failure names the server. */
async function kubeGet(kubeConfig: KubeConfig, path: string, query: Record<string, string> = {}): Promise<KubeResponse> {
  const server = kubeConfig.getCurrentCluster()!.server;
  const url = new URL(server.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  const { HttpMethod, IsomorphicFetchHttpLibrary, RequestContext } = await import('@kubernetes/client-node');
  const ctx = new RequestContext(url.toString(), HttpMethod.GET);
  ctx.setHeaderParam('Accept', 'application/json');
  ctx.setSignal(AbortSignal.timeout(60_000));
  await kubeConfig.applySecurityAuthentication(ctx);
  let status: number;
  let text: string;
  try {
    const response = await new IsomorphicFetchHttpLibrary().send(ctx).toPromise();
    status = response.httpStatusCode;
    text = await response.body.text();
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot reach the API server at ${server}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const message = typeof (body as { message?: unknown } | undefined)?.message === 'string' ? (body as { message: string }).message : text.slice(0, 200);
  return { status, body, message };
}

/**
 * Lists a resource page by page (`limit`/`continue`), handing each page to `onPage` before the next is fetched,
 * so that memory holds one page. Returns false when the cluster serves none of the resource's versions (a CRD
 * that is not installed), which is not an error.
 */
export async function listResource(
  kubeConfig: KubeConfig,
  resource: AuditedResource,
  opts: Pick<AuditOptions, 'namespace' | 'pageSize'>,
  onPage: (items: KubeObject[]) => void,
): Promise<boolean> {
  const limit = String(Math.min(opts.pageSize, resource.maxPageSize ?? Infinity));
  for (const version of resource.versions) {
    const base = resource.group ? `/apis/${resource.group}/${version}` : `/api/${version}`;
    const path = `${base}${resource.namespaced && opts.namespace ? `/namespaces/${encodeURIComponent(opts.namespace)}` : ''}/${resource.plural}`;
    const apiVersion = resource.group ? `${resource.group}/${version}` : version;
    let cont: string | undefined;
    for (;;) {
      const response = await kubeGet(kubeConfig, path, cont ? { limit, continue: cont } : { limit });
      if (response.status === 404 && cont === undefined) break;
      if (response.status !== 200) throw new Error(`list ${path}: ${response.status} ${response.message}`);
      const page = response.body as { metadata?: { continue?: string }; items?: unknown[] };
      // Items of a list response carry no apiVersion/kind of their own.
      onPage((page.items ?? []).map((item) => ({ ...(item as KubeObject), apiVersion, kind: resource.kind })));
      cont = page.metadata?.continue || undefined;
      if (!cont) return true;
    }
  }
  return false;
}

function resourceLabel(r: AuditedResource): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

function ownerKey(kind: string | undefined, namespace: string | undefined, name: string | undefined): string {
  return `${kind ?? ''}/${namespace ?? ''}/${name ?? ''}`;
}

/** True when the object's controller (ownerReferences with controller: true) is an object the audit listed. */
function controlledByListed(object: KubeObject, listed: ReadonlySet<string>): boolean {
  const controller = object.metadata?.ownerReferences?.find((r) => r.controller === true);
  return controller !== undefined && listed.has(ownerKey(controller.kind, object.metadata?.namespace, controller.name));
}

/** A one-line progress display on stderr, only when stderr is a terminal (never in pipes or CI logs). */
export class Progress {
  private shown = false;

  constructor(private readonly stream: Pick<NodeJS.WriteStream, 'write' | 'isTTY'>) {}

  update(resource: string, report: Report): void {
    if (!this.stream.isTTY) return;
    const s = summarize(report);
    this.stream.write(`\r\u001b[K[audit] ${resource}: ${s.objects + s.reportedAtOwner} objects, ${s.denied} denied, ${s.warned} warned`);
    this.shown = true;
  }

  note(text: string): void {
    if (!this.stream.isTTY) return;
    this.stream.write(`\r\u001b[K[audit] ${text}`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.stream.write('\r\u001b[K');
    this.shown = false;
  }
}
