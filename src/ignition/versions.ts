import { releaseLine } from './releases.js';

/** The Ignition spec versions sctp-guard reads and writes: what the MCO accepts in some OpenShift release. */
export const SPEC_VERSIONS = ['2.2.0', '3.0.0', '3.1.0', '3.2.0', '3.3.0', '3.4.0', '3.5.0'] as const;
export type SpecVersion = (typeof SPEC_VERSIONS)[number];

/** The version of the OpenShift documentation's MachineConfigs, and the fallback target. */
export const DEFAULT_TARGET: SpecVersion = '3.2.0';

export function isSpecVersion(value: unknown): value is SpecVersion {
  return typeof value === 'string' && (SPEC_VERSIONS as readonly string[]).includes(value);
}

/**
 * Read, never written: every MCO release parses 2.x with Ignition's `config/v2_2` Parse, which falls back to
 * v2_1.Parse and v2_0.Parse for older versions and translates the result up to 2.2 (TranslateFromV2_0/V2_1).
 */
export const LEGACY_VERSIONS = ['2.0.0', '2.1.0'] as const;
export type LegacyVersion = (typeof LEGACY_VERSIONS)[number];
export type InputVersion = SpecVersion | LegacyVersion;
export const INPUT_VERSIONS: readonly InputVersion[] = [...LEGACY_VERSIONS, ...SPEC_VERSIONS];

export function isInputVersion(value: unknown): value is InputVersion {
  return isSpecVersion(value) || (typeof value === 'string' && (LEGACY_VERSIONS as readonly string[]).includes(value));
}

/** Minor of a 3.x version (3.2.0 → 2); 2.x is -1, below every 3.x. */
export function minorOf(version: InputVersion): number {
  return version.startsWith('3.') ? Number(version.split('.')[1]) : -1;
}

export function v3(minor: number): SpecVersion {
  const version = `3.${minor}.0`;
  if (!isSpecVersion(version)) throw new RangeError(`no Ignition spec ${version}`);
  return version;
}

/**
 * What the MCO renders per OpenShift release (MergeMachineConfigs sets the rendered config to its newest internal
 * version: openshift/machine-config-operator pkg/controller/common/helpers.go, at each release branch). Ranges of
 * 4.x minors, oldest first; the last row is open-ended.
 */
export const RELEASE_RENDERS: ReadonlyArray<{ from: number; to: number; renders: SpecVersion }> = [
  { from: 1, to: 5, renders: '2.2.0' },
  { from: 6, to: 6, renders: '3.1.0' },
  { from: 7, to: 13, renders: '3.2.0' },
  { from: 14, to: 18, renders: '3.4.0' },
  { from: 19, to: Number.POSITIVE_INFINITY, renders: '3.5.0' },
];

/**
 * The newest Ignition spec each release's MCO parses (IgnParseWrapper in pkg/controller/common/helpers.go of the
 * release branch; 2.x is read by every release): 4.13 already parses 3.3 and 3.4 and translates them down to 3.2.
 */
const RELEASE_READS: ReadonlyArray<{ from: number; to: number; reads: SpecVersion }> = [
  { from: 1, to: 5, reads: '3.0.0' },
  { from: 6, to: 6, reads: '3.1.0' },
  { from: 7, to: 12, reads: '3.2.0' },
  { from: 13, to: 18, reads: '3.4.0' },
  { from: 19, to: Number.POSITIVE_INFINITY, reads: '3.5.0' },
];

/**
 * A release's place in the rows above: 4.N is N; releases of a later major (5.0, whose MCO branch is 4.23's) come after
 * every 4.x, so the open-ended last rows hold them.
 */
function releaseOrdinal(release: string | undefined): number | undefined {
  const line = releaseLine(release);
  if (line === undefined) return undefined;
  const [major, minor] = line.split('.').map(Number) as [number, number];
  if (major < 4) return undefined;
  return major === 4 ? minor : 1000 * (major - 4) + minor;
}

/** `4.14.3` → 3.4.0; undefined for anything that is not an OpenShift release. */
export function renderedVersionOfRelease(release: string | undefined): SpecVersion | undefined {
  const minor = releaseOrdinal(release);
  return minor === undefined ? undefined : RELEASE_RENDERS.find((r) => minor >= r.from && minor <= r.to)?.renders;
}

/** `4.18.2` → 3.4.0: a newer 3.x config fails that MCO's parse. */
export function newestReadByRelease(release: string | undefined): SpecVersion | undefined {
  const minor = releaseOrdinal(release);
  return minor === undefined ? undefined : RELEASE_READS.find((r) => minor >= r.from && minor <= r.to)?.reads;
}

/** The first OpenShift release whose rendered configs carry `version` (a field of 3.3 needs 4.14, which renders 3.4). */
export function firstReleaseRendering(version: SpecVersion): string {
  const row = RELEASE_RENDERS.find((r) => compareVersions(r.renders, version) >= 0);
  return row ? `OpenShift 4.${row.from}` : 'no OpenShift release yet';
}

export function compareVersions(a: SpecVersion, b: SpecVersion): number {
  return SPEC_VERSIONS.indexOf(a) - SPEC_VERSIONS.indexOf(b);
}

export type TargetSource = 'policy' | 'rendered' | 'release' | 'default' | 'controller';

export interface Target {
  version: SpecVersion;
  /** Where the version came from, for messages: a user wants to know why 3.4.0 and not 3.2.0. */
  source: TargetSource;
}

/** What the cluster says about Ignition (plain facts, so this module needs nothing of the cluster layer). */
export interface ClusterIgnitionFacts {
  /** The spec version of the pools' rendered MachineConfigs. */
  readonly renderedIgnitionVersion?: string;
  /** The ClusterVersion's release, e.g. 4.12.3. */
  readonly openshiftVersion?: string;
  /** The version the MCO's running controller writes its own configs in (and so reads as is). */
  readonly controllerIgnitionVersion?: string;
}

/**
 * The version MachineConfigs are rewritten to: the policy's fixed version; with `auto`, the version of the
 * cluster's rendered MachineConfigs, else the version its ClusterVersion's release renders, else 3.2.0.
 *
 * With `declared` (the config's own version), a 3.x config newer than that target which the running controller
 * reads as is keeps its version: never translated down. Through an upgrade (4.18 → 4.19: 3.4.0 → 3.5.0) the
 * rendered version is one both the old and the new controller read (the old IgnParseWrapper parses up to its
 * ign3 MaxVersion, the new one up to its own), and it changes only when the pools re-render, which only the new
 * controller does; the controller's own configs show when the new controller runs. A config newer than what the
 * running controller reads is still translated down (the MCO would refuse it), and one older than the target up
 * (the MCO translates it the same way: ParseAndConvertConfig in pkg/controller/common/helpers.go).
 */
export function resolveTarget(targetVersion: string, cluster: ClusterIgnitionFacts, declared?: string): Target {
  const target = baseTarget(targetVersion, cluster);
  const running = cluster.controllerIgnitionVersion;
  if (
    isSpecVersion(declared) &&
    isSpecVersion(running) &&
    compareVersions(declared, target.version) > 0 &&
    compareVersions(declared, running) <= 0
  ) {
    return { version: declared, source: 'controller' };
  }
  return target;
}

function baseTarget(targetVersion: string, cluster: ClusterIgnitionFacts): Target {
  if (targetVersion !== 'auto' && isSpecVersion(targetVersion)) return { version: targetVersion, source: 'policy' };
  if (isSpecVersion(cluster.renderedIgnitionVersion))
    return { version: cluster.renderedIgnitionVersion, source: 'rendered' };
  const byRelease = renderedVersionOfRelease(cluster.openshiftVersion);
  if (byRelease) return { version: byRelease, source: 'release' };
  return { version: DEFAULT_TARGET, source: 'default' };
}

export function describeTarget(target: Target, cluster: ClusterIgnitionFacts): string {
  switch (target.source) {
    case 'policy':
      return `${target.version} (ignition.targetVersion in the sctp-guard policy)`;
    case 'rendered':
      return `${target.version} (the version of this cluster's rendered MachineConfigs)`;
    case 'release':
      return `${target.version} (what OpenShift ${cluster.openshiftVersion ?? '?'} renders)`;
    case 'default':
      return `${target.version} (the OpenShift documentation's version; cluster version unknown)`;
    case 'controller':
      return `${target.version} (the config's own version, which this cluster's Machine Config Operator writes its configs in and reads as is)`;
  }
}
