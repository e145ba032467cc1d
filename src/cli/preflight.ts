import { Option, type Command } from 'commander';
import { loadClusterState } from '../cluster/offline.js';
import type { ClusterSnapshot } from '../cluster/snapshot.js';
import { Engine } from '../engine/engine.js';
import { reviewObject, type ReviewMessage } from '../engine/review-object.js';
import type { KubeObject } from '../engine/types.js';
import {
  isPlatformMachineConfig,
  judgeMachineConfig,
  judgeObject,
  judgePool,
  upgradePath,
  upgradePolicy,
  type ObjectChange,
  type PoolJudgement,
  type ReleaseJudgement,
} from '../engine/upgrade.js';
import { describeObject } from '../engine/verdict.js';
import { KNOWN_RELEASES } from '../ignition/releases.js';
import { ALL_RULES } from '../rules/index.js';
import { auditedResources, listResource } from './audit.js';
import { connect, CONTEXT_HELP, KUBECONFIG_HELP, liveSnapshot } from './kube.js';
import { readManifests } from '../input/manifests.js';
import { formatLocation, formatProblem, type InputProblem } from '../input/problems.js';
import { clusterStateOption, collect, commandPolicy, packageVersion } from './options.js';
import { formatJunit } from './output/junit.js';
import { toReported, type Report, type ReportedObject } from './output/report.js';
import { formatSarif } from './output/sarif.js';
import { formatYamlStream } from './output/yaml.js';

export const PREFLIGHT_FORMATS = ['text', 'json', 'sarif', 'junit', 'yaml'] as const;
export type PreflightFormat = (typeof PREFLIGHT_FORMATS)[number];

export interface PreflightOptions {
  to: string;
  from?: string;
  clusterState?: string;
  kubeconfig?: string;
  context?: string;
  filename: string[];
  config?: string;
  output: PreflightFormat;
}

export function registerPreflightCommand(program: Command): void {
  program
    .command('preflight')
    .description(
      'what an OpenShift upgrade will do to the MachineConfigs, pools and SCTP objects, at every release on the way (exit 0 nothing refused or degraded, 1 something would be, 2 bad input)',
    )
    .requiredOption(
      '--to <release>',
      `the release to upgrade to (4.N or 4.N.z): ${KNOWN_RELEASES[0]} to ${KNOWN_RELEASES[KNOWN_RELEASES.length - 1]}`,
    )
    .option('--from <release>', "the cluster's release (default: its ClusterVersion)")
    .addOption(
      clusterStateOption(
        'offline cluster state: YAML of Nodes, MachineConfigs, MachineConfigPools, ClusterVersion (and any SCTP objects)',
      ),
    )
    .option('--kubeconfig <file>', KUBECONFIG_HELP)
    .option('--context <name>', CONTEXT_HELP)
    .option(
      '-f, --filename <path>',
      'more manifests to judge (files, folders, globs), e.g. the SCTP Services of a repository; repeatable',
      collect,
      [],
    )
    .option('--config <file>', 'policy file (YAML); the openshift-baremetal preset without one')
    .addOption(
      new Option(
        '-o, --output <format>',
        'text, json, sarif, junit, or yaml (the MachineConfigs a release on the way refuses, rewritten in a version every release on the way reads)',
      )
        .choices(PREFLIGHT_FORMATS)
        .default('text'),
    )
    .action(async (opts: PreflightOptions) => {
      process.exitCode = await preflight(opts);
    });
}

/** A MachineConfig judged at every release of the path, and where it was read. */
interface JudgedMachineConfig {
  object: KubeObject;
  source?: { file: string; line: number };
  releases: ReleaseJudgement[];
}

interface SourcedChange {
  object: KubeObject;
  source?: { file: string; line: number };
  changes: ObjectChange[];
}

export interface PreflightResult {
  from: string;
  to: string;
  path: string[];
  machineConfigs: JudgedMachineConfig[];
  pools: PoolJudgement[];
  /** Objects that are not MachineConfigs and were judged (SCTP Services, Gateways, workloads …). */
  objectsJudged: number;
  changes: SourcedChange[];
  problems: InputProblem[];
}

export async function preflight(
  opts: PreflightOptions,
  io: { stdout: Pick<NodeJS.WriteStream, 'write'>; stderr: Pick<NodeJS.WriteStream, 'write'> } = process,
): Promise<number> {
  const policy = upgradePolicy(commandPolicy(opts.config));
  const engine = new Engine(ALL_RULES, policy);
  const result = opts.clusterState ? await offlinePreflight(engine, opts) : await livePreflight(engine, opts);
  for (const p of result.problems) io.stderr.write(`sctp-guard: preflight: ${formatProblem(p)}\n`);
  const report = toReport(result);
  switch (opts.output) {
    case 'text':
      io.stdout.write(formatPreflightText(result));
      break;
    case 'json':
      io.stdout.write(formatPreflightJson(result));
      break;
    case 'sarif':
      io.stdout.write(formatSarif(report, engine.rules, packageVersion()));
      break;
    case 'junit':
      io.stdout.write(formatJunit(report));
      break;
    case 'yaml': {
      // stdout stays a clean stream for `oc apply -f -`: only the rewrites; the explanation goes to stderr.
      // The rewrite for the first release that refuses: the releases after it read that version too.
      const rewritten = result.machineConfigs
        .map((m) => m.releases.find((r) => r.rewritten)?.rewritten)
        .filter((o): o is KubeObject => o !== undefined);
      if (rewritten.length > 0) io.stdout.write(formatYamlStream(rewritten));
      io.stderr.write(formatPreflightText(result));
      break;
    }
  }
  return exitCode(result);
}

/** 2 when input could not be read, 1 when a release on the way refuses a config, degrades a pool or changes a verdict to a denial. */
export function exitCode(result: PreflightResult): number {
  if (result.problems.length > 0) return 2;
  const refused = result.machineConfigs.some((m) => m.releases.some((r) => r.fate === 'refused'));
  const pools = result.pools.some((p) => p.refused.length > 0 || losesSctp(p));
  const denied = result.changes.some((c) => c.changes.some((x) => !x.after.allowed));
  return refused || pools || denied ? 1 : 0;
}

function losesSctp(p: PoolJudgement): boolean {
  return p.before.carries === true && p.after.carries !== true;
}

async function offlinePreflight(engine: Engine, opts: PreflightOptions): Promise<PreflightResult> {
  const snapshot = loadClusterState(opts.clusterState!);
  const manifests = await readManifests([opts.clusterState!, ...opts.filename]);
  const judge = judgeAll(engine, snapshot, opts);
  for (const m of manifests.objects) judge.take(m.object, { file: m.file, line: m.line });
  return judge.finish(manifests.problems);
}

async function livePreflight(engine: Engine, opts: PreflightOptions): Promise<PreflightResult> {
  const policy = engine.policy;
  const api = await connect(opts.kubeconfig, opts.context);
  const snapshot = await liveSnapshot(api, policy);
  const judge = judgeAll(engine, snapshot, opts);
  const problems: InputProblem[] = [];
  if (opts.filename.length > 0) {
    const manifests = await readManifests(opts.filename);
    for (const m of manifests.objects) judge.take(m.object, { file: m.file, line: m.line });
    problems.push(...manifests.problems);
  }
  for (const resource of auditedResources(engine)) {
    try {
      await listResource(api, resource, { pageSize: 500 }, (object) => judge.take(object));
    } catch (err) {
      problems.push({
        file: resource.group ? `${resource.plural}.${resource.group}` : resource.plural,
        line: 0,
        message: (err as Error).message,
      });
    }
  }
  return judge.finish(problems);
}

/**
 * Takes objects one at a time: MachineConfigs are kept (a pool's re-render merges them all); any other object is
 * judged as it arrives and kept only when a release changes what the rules decide about it.
 */
function judgeAll(engine: Engine, snapshot: ClusterSnapshot, opts: PreflightOptions) {
  const from = opts.from ?? snapshot.openshiftVersion;
  if (!from)
    throw new Error(
      "preflight: the cluster's release is unknown (no ClusterVersion in the cluster state): pass --from 4.N",
    );
  const path = upgradePath(from, opts.to, KNOWN_RELEASES);
  const machineConfigs: Array<{ object: KubeObject; source?: { file: string; line: number } }> = [];
  const changes: SourcedChange[] = [];
  let objectsJudged = 0;
  return {
    take(object: KubeObject, source?: { file: string; line: number }) {
      if (object.kind === 'MachineConfig') {
        if (!String(object.metadata?.name ?? '').startsWith('rendered-'))
          machineConfigs.push({ object, ...(source ? { source } : {}) });
        return;
      }
      const gvkGroup = (object.apiVersion ?? '').includes('/')
        ? object.apiVersion!.slice(0, object.apiVersion!.lastIndexOf('/'))
        : '';
      if (
        !engine.watches('validate', gvkGroup, object.kind ?? '') &&
        !engine.watches('mutate', gvkGroup, object.kind ?? '')
      )
        return;
      objectsJudged++;
      const before = reviewObject(engine, snapshot, object);
      const found = path.flatMap((release) => judgeObject(engine, snapshot, object, release, before) ?? []);
      if (found.length > 0) changes.push({ object, ...(source ? { source } : {}), changes: found });
    },
    finish(problems: InputProblem[]): PreflightResult {
      const judged: JudgedMachineConfig[] = machineConfigs
        .filter((m) => !isPlatformMachineConfig(m.object))
        .map((m) => ({
          ...m,
          releases: path.map((release) => judgeMachineConfig(engine, snapshot, m.object, release)),
        }));
      const pools: PoolJudgement[] = [];
      path.forEach((release, i) => {
        const byName = new Map(judged.map((m) => [String(m.object.metadata?.name ?? ''), m.releases[i]!]));
        const previous = i === 0 ? from : path[i - 1]!;
        for (const pool of snapshot.pools)
          pools.push(
            judgePool(
              pool,
              machineConfigs.map((m) => m.object),
              byName,
              release,
              previous,
            ),
          );
      });
      return { from, to: opts.to, path, machineConfigs: judged, pools, objectsJudged, changes, problems };
    },
  };
}

/** Consecutive releases with the same fate and reason, as one line: `4.15–4.18 translated: …`. */
function runs(
  releases: readonly ReleaseJudgement[],
): Array<{ first: string; last: string; judgement: ReleaseJudgement }> {
  const out: Array<{ first: string; last: string; judgement: ReleaseJudgement }> = [];
  for (const r of releases) {
    const prev = out.at(-1);
    if (prev && prev.judgement.fate === r.fate && prev.judgement.reason === r.reason) prev.last = r.release;
    else out.push({ first: r.release, last: r.release, judgement: r });
  }
  return out;
}

export function formatPreflightText(result: PreflightResult): string {
  const lines: string[] = [];
  const through = result.path.length > 1 ? ` through ${result.path.slice(0, -1).join(', ')}` : '';
  lines.push(
    `Upgrade ${result.from} → ${result.to}${through}: each release's MCO re-renders every pool from the MachineConfigs below.`,
    '',
  );
  lines.push(
    result.machineConfigs.length > 0
      ? 'MachineConfigs (those the MCO writes itself are left out):'
      : "No MachineConfigs besides the MCO's own.",
  );
  for (const m of result.machineConfigs) {
    const where = m.source ? `${formatLocation(m.source.file, m.source.line)}: ` : '';
    lines.push(`  ${where}${describeObject(m.object)}`);
    for (const run of runs(m.releases)) {
      const span = run.first === run.last ? run.first : `${run.first}–${run.last}`;
      lines.push(`    ${span} ${run.judgement.fate.toUpperCase()}: ${run.judgement.reason}`);
    }
  }
  lines.push('', 'Pools:');
  const last = result.path.at(-1);
  for (const name of [...new Set(result.pools.map((p) => p.pool))]) {
    const steps = result.pools.filter((p) => p.pool === name);
    const broken = steps.find((p) => p.refused.length > 0);
    const lost = steps.find(losesSctp);
    const final = steps.find((p) => p.release === last)!;
    if (broken)
      lines.push(
        `  ${name}: DEGRADES at ${broken.release}: the MCO refuses ${broken.refused.join(', ')} (above), so the pool's nodes stay on their current config and the upgrade stalls.`,
      );
    else if (lost) lines.push(`  ${name}: LOSES SCTP at ${lost.release}: ${lost.after.reason}.`);
    else if (final.after.carries === true) lines.push(`  ${name}: keeps SCTP through ${last}: ${final.after.reason}.`);
    else lines.push(`  ${name}: does not carry SCTP, before or after (${final.after.reason}).`);
  }
  lines.push(
    '',
    result.changes.length === 0
      ? `SCTP objects: no verdict changes at any release (${result.objectsJudged} judged).`
      : 'SCTP objects whose verdict changes:',
  );
  for (const c of result.changes) {
    const where = c.source ? `${formatLocation(c.source.file, c.source.line)}: ` : '';
    for (const x of c.changes) {
      const text = x.after.findings.map((f) => f.message).join(' ') || 'allowed with no finding';
      lines.push(
        `  ${where}${describeObject(c.object)} at ${x.release}: ${x.before.allowed ? 'allowed' : 'denied'} → ${x.after.allowed ? 'allowed' : 'denied'}: ${text}`,
      );
    }
  }
  lines.push('', summary(result));
  return `${lines.join('\n')}\n`;
}

function summary(result: PreflightResult): string {
  const refused = result.machineConfigs.filter((m) => m.releases.some((r) => r.fate === 'refused')).length;
  const degrade = new Set(result.pools.filter((p) => p.refused.length > 0).map((p) => p.pool)).size;
  const lose = new Set(result.pools.filter(losesSctp).map((p) => p.pool)).size;
  const pools = new Set(result.pools.map((p) => p.pool)).size;
  const problems =
    result.problems.length > 0
      ? `, ${result.problems.length} input error${result.problems.length === 1 ? '' : 's'}`
      : '';
  return `${result.machineConfigs.length} MachineConfigs judged at ${result.path.join(', ')}: ${refused} refused; ${pools} pools: ${degrade} degrade, ${lose} lose SCTP; ${result.objectsJudged} SCTP objects: ${result.changes.length} change${problems}`;
}

export function formatPreflightJson(result: PreflightResult): string {
  const doc = {
    apiVersion: 'sctp-guard.io/v1alpha1',
    kind: 'PreflightReport',
    from: result.from,
    to: result.to,
    path: result.path,
    machineConfigs: result.machineConfigs.map((m) => ({
      name: m.object.metadata?.name,
      ...(m.source ? { file: m.source.file, line: m.source.line } : {}),
      releases: m.releases.map((r) => ({
        release: r.release,
        fate: r.fate,
        reason: r.reason,
        findings: r.findings.map((f) => ({ rule: f.rule, decision: f.decision, message: f.message })),
      })),
    })),
    pools: result.pools.map((p) => ({
      pool: p.pool,
      release: p.release,
      machineConfigs: p.machineConfigs,
      refused: p.refused,
      carriesSctpBefore: p.before.carries,
      carriesSctpAfter: p.after.carries,
      reason: p.after.reason,
    })),
    objects: {
      judged: result.objectsJudged,
      changes: result.changes.flatMap((c) =>
        c.changes.map((x) => ({
          kind: c.object.kind,
          namespace: c.object.metadata?.namespace ?? '',
          name: c.object.metadata?.name,
          release: x.release,
          allowedBefore: x.before.allowed,
          allowedAfter: x.after.allowed,
          findings: x.after.findings.map((f) => f.message),
        })),
      ),
    },
    errors: result.problems,
    exitCode: exitCode(result),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** The findings as check's report, for the CI formats: one object per MachineConfig, pool and changed object. */
function toReport(result: PreflightResult): Report {
  const objects: ReportedObject[] = [];
  for (const m of result.machineConfigs) {
    const refusals = m.releases.filter((r) => r.fate === 'refused');
    const findings = refusals.map((r) => {
      const rule =
        r.findings.find((f) => f.decision === 'deny' || f.decision === 'error')?.rule ?? 'ignition-spec-version';
      const detail = `OpenShift ${r.release}: ${r.reason}`;
      return {
        rule,
        phase: 'mutate' as const,
        decision: 'deny' as const,
        message: `[${rule}] ${describeObject(m.object)}: ${detail}`,
        detail,
      };
    });
    objects.push({
      ...(m.source ? { file: m.source.file, line: m.source.line } : {}),
      apiVersion: m.object.apiVersion ?? '',
      kind: 'MachineConfig',
      namespace: '',
      name: String(m.object.metadata?.name ?? ''),
      result: findings.length > 0 ? 'deny' : 'pass',
      findings,
      warnings: [],
      patch: [],
      patchedBy: [],
    });
  }
  for (const name of [...new Set(result.pools.map((p) => p.pool))]) {
    const steps = result.pools.filter((p) => p.pool === name);
    const findings = steps.flatMap((p): ReviewMessage[] => {
      const label = `MachineConfigPool ${p.pool}`;
      if (p.refused.length > 0) {
        const detail = `OpenShift ${p.release}: the MCO refuses ${p.refused.join(', ')}: the pool degrades and the upgrade stalls. Fix: rewrite or remove ${p.refused.join(', ')} before the upgrade (sctp-guard preflight -o yaml prints the rewrites it can make).`;
        return [
          {
            rule: 'ignition-spec-version',
            phase: 'mutate' as const,
            decision: 'deny' as const,
            message: `[ignition-spec-version] ${label}: ${detail}`,
            detail,
          },
        ];
      }
      if (losesSctp(p)) {
        const detail = `OpenShift ${p.release}: the pool's nodes no longer carry SCTP: ${p.after.reason}. Fix: keep a MachineConfig that loads sctp and replaces the RHCOS blacklist (sctp-guard remediate).`;
        return [
          {
            rule: 'sctp-module-loaded',
            phase: 'validate' as const,
            decision: 'deny' as const,
            message: `[sctp-module-loaded] ${label}: ${detail}`,
            detail,
          },
        ];
      }
      return [];
    });
    objects.push({
      apiVersion: 'machineconfiguration.openshift.io/v1',
      kind: 'MachineConfigPool',
      namespace: '',
      name,
      result: findings.length > 0 ? 'deny' : 'pass',
      findings,
      warnings: [],
      patch: [],
      patchedBy: [],
    });
  }
  for (const c of result.changes) {
    const last = c.changes.at(-1)!;
    objects.push(toReported(last.after, false, c.source));
  }
  return { command: 'preflight', objects, problems: result.problems, reportedAtOwner: 0, startedAt: new Date() };
}
