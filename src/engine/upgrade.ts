import { analyzeSctp, type SctpFacts } from '../cluster/machineconfig.js';
import { matchesLabelSelector } from '../cluster/selectors.js';
import type { ClusterSnapshot, PoolInfo } from '../cluster/snapshot.js';
import { convertConfig } from '../ignition/convert.js';
import { releaseLine } from '../ignition/releases.js';
import {
  isInputVersion,
  minorOf,
  newestReadByRelease,
  renderedVersionOfRelease,
  type SpecVersion,
} from '../ignition/versions.js';
import type { Policy } from '../policy/types.js';
import { isRecord } from '../util/json.js';
import { KINDS } from '../util/kinds.js';
import type { Engine } from './engine.js';
import { platformOwnedReason } from './platform-owned.js';
import { reviewObject, type Review, type ReviewMessage } from './review-object.js';
import type { KubeObject } from './types.js';

/**
 * What an OpenShift upgrade does to what a cluster holds, release by release: every MCO on the way re-renders every
 * pool from the same MachineConfigs (the render controller of each release parses them all), so a config is judged
 * at each release the cluster passes through, with the same rules and tables the webhook uses at that release.
 */

/**
 * The releases an upgrade from `from` to `to` passes through, oldest first. OpenShift moves one minor at a time; an
 * EUS-to-EUS upgrade (4.14 → 4.16 → 4.18) pauses the worker pools, but the control plane and the MCO still run every
 * minor in between, and each of them re-renders every pool.
 */
export function upgradePath(from: string, to: string, known: readonly string[]): string[] {
  const fromIndex = known.indexOf(releaseLine(from) ?? '');
  const toIndex = known.indexOf(releaseLine(to) ?? '');
  const knownText = known.join(', ');
  if (toIndex < 0)
    throw new UpgradeError(`release ${JSON.stringify(to)} is not one sctp-guard knows; it knows ${knownText}`);
  if (fromIndex < 0)
    throw new UpgradeError(
      `the cluster's release ${JSON.stringify(from)} is not one sctp-guard knows; it knows ${knownText}`,
    );
  if (toIndex < fromIndex)
    throw new UpgradeError(`--to ${to} is older than the cluster's release ${from}: OpenShift does not downgrade`);
  return toIndex === fromIndex ? [known[toIndex]!] : known.slice(fromIndex + 1, toIndex + 1);
}

export class UpgradeError extends Error {}

/**
 * The cluster as the MCO of `release` sees it once the pools have re-rendered: its rendered configs are in the
 * version that release renders. Node states are the same: a re-render that keeps the pool's files keeps SCTP.
 */
export function snapshotAt(snapshot: ClusterSnapshot, release: string): ClusterSnapshot {
  const renders = renderedVersionOfRelease(release);
  return Object.freeze({
    ...snapshot,
    openshiftVersion: release,
    // The controller of that release runs, renders and writes its own configs in the version it renders.
    ...(renders ? { renderedIgnitionVersion: renders, controllerIgnitionVersion: renders } : {}),
    pools: snapshot.pools.map((p): PoolInfo => ({ ...p, ...(renders ? { ignitionVersion: renders } : {}) })),
  });
}

/** What the MCO of a release does with a MachineConfig. */
export type Fate = 'as-is' | 'translated' | 'refused';

export interface ReleaseJudgement {
  release: string;
  fate: Fate;
  /** Why, in the MCO's terms, without the release: "the MCO parses Ignition up to 3.4.0: a 3.5.0 config fails …". */
  reason: string;
  /** The rules' findings at that release (the webhook's verdict there). */
  findings: ReviewMessage[];
  /** The MachineConfig rewritten for that release, when the MCO refuses it and a rewrite makes it readable. */
  rewritten?: KubeObject;
}

/** The policy as the pre-flight applies it: the Ignition target follows each release, whatever the file fixes. */
export function upgradePolicy(policy: Policy): Policy {
  return { ...policy, ignition: { ...policy.ignition, targetVersion: 'auto' } };
}

/** One MachineConfig at one release: the webhook's rules at that release, and the MCO's reading of its version. */
export function judgeMachineConfig(
  engine: Engine,
  snapshot: ClusterSnapshot,
  object: KubeObject,
  release: string,
): ReleaseJudgement {
  const review = reviewObject(engine, snapshotAt(snapshot, release), object);
  const denials = review.findings.filter((f) => f.decision === 'deny' || f.decision === 'error');
  const declared = declaredVersion(object);
  const reads = newestReadByRelease(release);
  const renders = renderedVersionOfRelease(release);
  if (denials.length > 0) {
    return { release, fate: 'refused', reason: denials.map((f) => f.detail).join(' '), findings: review.findings };
  }
  if (isInputVersion(declared) && reads && minorOf(declared) > minorOf(reads)) {
    const rewritten = review.patch.length > 0 ? review.object : undefined;
    return {
      release,
      fate: 'refused',
      reason: `the MCO parses Ignition up to ${reads} and refuses ${declared} ("parsing Ignition config failed: unknown version. Supported spec versions: ${supportedText(reads)}"): the render fails and the pool degrades (RenderDegraded)${rewritten ? `; the same config in ${renders} is read (-o yaml prints it)` : ''}.`,
      findings: review.findings,
      ...(rewritten ? { rewritten } : {}),
    };
  }
  if (declared === undefined)
    return {
      release,
      fate: 'as-is',
      reason: 'no Ignition config: the MCO merges its other fields',
      findings: review.findings,
    };
  if (declared === renders)
    return {
      release,
      fate: 'as-is',
      reason: `read as is: Ignition ${declared} is the version the MCO renders`,
      findings: review.findings,
    };
  return {
    release,
    fate: 'translated',
    reason: `the MCO translates Ignition ${declared} to ${renders} when it renders`,
    findings: review.findings,
  };
}

/** IgnParseWrapper's list in its "unknown version" error (release-4.18: "2.2, 3.0, 3.1, 3.2, 3.3, 3.4"). */
function supportedText(reads: SpecVersion): string {
  return ['2.2', ...Array.from({ length: minorOf(reads) + 1 }, (_, i) => `3.${i}`)].join(', ');
}

function declaredVersion(object: KubeObject): string | undefined {
  const spec = isRecord(object.spec) ? object.spec : {};
  const config = isRecord(spec.config) ? spec.config : undefined;
  const version = config && isRecord(config.ignition) ? config.ignition.version : undefined;
  return typeof version === 'string' ? version : undefined;
}

/** A pool after the MCO of a release re-renders it. */
export interface PoolJudgement {
  pool: string;
  release: string;
  /** The MachineConfigs the pool's machineConfigSelector selects, in the order the MCO merges them (by name). */
  machineConfigs: string[];
  /** MachineConfigs that release's MCO refuses: the render fails and the pool degrades. */
  refused: string[];
  /** Whether the pool's merged config loads sctp and lifts the RHCOS blacklist, before and after the re-render. */
  before: SctpFacts;
  after: SctpFacts;
}

/**
 * The MachineConfigs a pool renders, merged as the MCO's MergeMachineConfigs merges them (sorted by name, a later
 * file at the same path replacing an earlier one), read for SCTP as a node reads its rendered config.
 */
export function judgePool(
  pool: PoolInfo,
  machineConfigs: readonly KubeObject[],
  judgements: ReadonlyMap<string, ReleaseJudgement>,
  release: string,
  previous: string,
): PoolJudgement {
  const selected = machineConfigs
    .filter((mc) => pool.machineConfigSelector && matchesLabelSelector(stringLabels(mc), pool.machineConfigSelector))
    .sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  const refused = selected.filter((mc) => judgements.get(nameOf(mc))?.fate === 'refused').map(nameOf);
  const name = `the merged config of pool ${pool.name}`;
  const before = mergedSctp(selected, renderedVersionOfRelease(previous), name);
  // A failed render leaves the nodes on the config they run: what they carry does not change.
  const after = refused.length > 0 ? before : mergedSctp(selected, renderedVersionOfRelease(release), name);
  return { pool: pool.name, release, machineConfigs: selected.map(nameOf), refused, before, after };
}

function mergedSctp(selected: readonly KubeObject[], version: SpecVersion | undefined, name: string): SctpFacts {
  const files: unknown[] = [];
  const kernelArguments: unknown[] = [];
  for (const mc of selected) {
    const spec = isRecord(mc.spec) ? mc.spec : {};
    if (Array.isArray(spec.kernelArguments)) kernelArguments.push(...spec.kernelArguments);
    if (!isRecord(spec.config) || !version) continue;
    const declared = isRecord(spec.config.ignition) ? spec.config.ignition.version : undefined;
    if (!isInputVersion(declared)) continue;
    const checked = convertConfig(spec.config, version).checked;
    const storage = checked && isRecord(checked.storage) ? checked.storage : {};
    if (Array.isArray(storage.files)) files.push(...storage.files);
  }
  return analyzeSctp({ ignition: { version: version ?? '3.2.0' }, storage: { files } }, kernelArguments, name);
}

/** An object that is not a MachineConfig, before the upgrade and at a release: whether the rules decide otherwise. */
export interface ObjectChange {
  release: string;
  before: Review;
  after: Review;
}

export function judgeObject(
  engine: Engine,
  snapshot: ClusterSnapshot,
  object: KubeObject,
  release: string,
  before: Review,
): ObjectChange | undefined {
  const after = reviewObject(engine, snapshotAt(snapshot, release), object);
  const same =
    after.allowed === before.allowed &&
    JSON.stringify(after.findings.map((f) => [f.rule, f.decision])) ===
      JSON.stringify(before.findings.map((f) => [f.rule, f.decision]));
  return same ? undefined : { release, before, after };
}

function nameOf(object: KubeObject): string {
  return String(object.metadata?.name ?? '');
}

function stringLabels(object: KubeObject): Record<string, string> {
  return Object.fromEntries(
    Object.entries(object.metadata?.labels ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
}

/** The MCO's own MachineConfigs: what a pool renders from, never what an upgrade pre-flight judges (platform-owned.ts decides). */
export function isPlatformMachineConfig(object: KubeObject): boolean {
  return (
    platformOwnedReason({
      object,
      gvk: {
        group: KINDS.MachineConfig.group,
        version: KINDS.MachineConfig.versions[0],
        kind: KINDS.MachineConfig.kind,
      },
    }) !== undefined
  );
}
