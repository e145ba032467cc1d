import { Option, type Command } from 'commander';
import type { KubeApi } from '../cluster/kube-api.js';
import { Engine } from '../engine/engine.js';
import { reviewObject } from '../engine/review-object.js';
import { apiPath, isClusterScoped, kindInfo } from '../util/kinds.js';
import type { KubeObject } from '../engine/types.js';
import { ALL_RULES } from '../rules/index.js';
import { clusterDataOf } from '../engine/cluster-data.js';
import { connect, CONTEXT_HELP, KUBECONFIG_HELP, liveSnapshot } from './kube.js';
import { formatProblem } from '../input/problems.js';
import { commandPolicy, positiveInt } from './options.js';
import { formatJson } from './output/json.js';
import { isReportFormat, policyReports } from './output/policyreport.js';
import { Progress } from './output/progress.js';
import { exitCodeOf, summaryLine, toReported, type Report } from './output/report.js';
import { formatText } from './output/text.js';
import { formatYamlStream } from './output/yaml.js';
import { writeReports } from './write-reports.js';

export const AUDIT_FORMATS = ['text', 'json', 'policyreport', 'openreports'] as const;
export type AuditFormat = (typeof AUDIT_FORMATS)[number];
export const DEFAULT_PAGE_SIZE = 500;
/** The progress line is redrawn every this many objects. */
const PROGRESS_EVERY = 200;

export interface AuditOptions {
  kubeconfig?: string;
  context?: string;
  config?: string;
  output: AuditFormat;
  namespace?: string;
  pageSize: number;
  writeReports?: boolean;
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
const OWNERS_FIRST = [
  'CronJob',
  'Job',
  'Deployment',
  'ReplicaSet',
  'ReplicationController',
  'StatefulSet',
  'DaemonSet',
  'Pod',
];

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
        const entry = byResource.get(key) ?? {
          group: m.group,
          versions: [],
          plural: resource,
          kind,
          namespaced: !isClusterScoped(kind),
          maxPageSize: kindInfo(m.group, kind)?.maxPageSize,
        };
        for (const v of m.versions) if (!entry.versions.includes(v)) entry.versions.push(v);
        byResource.set(key, entry);
      }
    }
  }
  const rank = (r: AuditedResource) =>
    OWNERS_FIRST.includes(r.kind) ? OWNERS_FIRST.indexOf(r.kind) : OWNERS_FIRST.length;
  return [...byResource.values()].sort((a, b) => rank(a) - rank(b));
}

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description(
      'evaluate what is in a live cluster as if it were applied today (exit 0 nothing denied, 1 something denied, 2 error)',
    )
    .option('--kubeconfig <file>', KUBECONFIG_HELP)
    .option('--context <name>', CONTEXT_HELP)
    .option('--config <file>', 'policy file (YAML); the openshift-baremetal preset without one')
    .addOption(new Option('-o, --output <format>', 'output format').choices(AUDIT_FORMATS).default('text'))
    .option('--namespace <ns>', 'audit only this namespace (cluster-scoped MachineConfigs are then left out)')
    .option('--page-size <n>', 'objects per list request (limit/continue pagination)', positiveInt, DEFAULT_PAGE_SIZE)
    .option(
      '--write-reports',
      'create or update the -o policyreport/openreports reports in the cluster instead of printing them (exit 0 once written)',
    )
    .action(async (opts: AuditOptions) => {
      process.exitCode = await audit(opts);
    });
}

export async function audit(opts: AuditOptions): Promise<number> {
  if (opts.writeReports && !isReportFormat(opts.output)) {
    throw new Error(
      '--write-reports writes the reports into the cluster: use it with -o policyreport or -o openreports',
    );
  }
  const policy = commandPolicy(opts.config);
  const engine = new Engine(ALL_RULES, policy);
  const api = await connect(opts.kubeconfig, opts.context);
  const snapshot = await liveSnapshot(api, policy, clusterDataOf(ALL_RULES));
  const report: Report = { command: 'audit', objects: [], problems: [], reportedAtOwner: 0, startedAt: new Date() };
  const progress = new Progress(process.stderr);
  // Controllers seen so far (`Kind/ns/name`); a Pod, ReplicaSet or Job they control is reported at them.
  const listed = new Set<string>();
  const resources = auditedResources(engine).filter((r) => r.namespaced || opts.namespace === undefined);

  for (const resource of resources) {
    try {
      let count = 0;
      const found = await listResource(api, resource, opts, (object) => {
        listed.add(ownerKey(object.kind, object.metadata?.namespace, object.metadata?.name));
        if (controlledByListed(object, listed)) report.reportedAtOwner++;
        else report.objects.push(toReported(reviewObject(engine, snapshot, object), false));
        if (++count % PROGRESS_EVERY === 0) progress.update(resource.plural, report);
      });
      progress.update(resource.plural, report);
      if (!found) progress.note(`${resourceLabel(resource)} not served by this cluster: skipped`);
    } catch (err) {
      report.problems.push({ file: resourceLabel(resource), line: 0, message: (err as Error).message });
    }
  }
  progress.done();

  for (const p of report.problems) process.stderr.write(`sctp-guard: audit: ${formatProblem(p)}\n`);
  if (opts.writeReports && isReportFormat(opts.output)) {
    // A report built from part of a namespace would read as clean: keep the previous run's instead.
    if (report.problems.length > 0) {
      process.stderr.write(
        `sctp-guard: audit: reports not written: the audit is incomplete (${report.problems.length} list(s) failed)\n`,
      );
      return 2;
    }
    const { lines } = await writeReports(api, policyReports(report, opts.output), opts.output, {
      namespace: opts.namespace,
    });
    process.stdout.write(`${[...lines, summaryLine(report)].join('\n')}\n`);
    return 0;
  }
  if (opts.output === 'json') process.stdout.write(formatJson(report));
  else if (isReportFormat(opts.output)) process.stdout.write(formatYamlStream(policyReports(report, opts.output)));
  else process.stdout.write(formatText(report));
  return exitCodeOf(report);
}

/**
 * Lists a resource page by page (through KubeApi.list: one object in memory at a time), trying its versions in order
 * of preference. Returns false when the cluster serves none of them (a CRD that is not installed), which is not an error.
 */
export async function listResource(
  api: KubeApi,
  resource: AuditedResource,
  opts: Pick<AuditOptions, 'namespace' | 'pageSize'>,
  onObject: (object: KubeObject) => void,
): Promise<boolean> {
  const limit = Math.min(opts.pageSize, resource.maxPageSize ?? Infinity);
  for (const version of resource.versions) {
    const path = apiPath(
      { group: resource.group, resource: resource.plural },
      version,
      resource.namespaced ? opts.namespace : undefined,
    );
    const apiVersion = resource.group ? `${resource.group}/${version}` : version;
    // Items of a list response carry no apiVersion/kind of their own.
    const found = await api.list(path, { limit }, (item) =>
      onObject({ ...(item as KubeObject), apiVersion, kind: resource.kind }),
    );
    if (found) return true;
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
