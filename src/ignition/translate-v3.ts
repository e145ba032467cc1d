import { cloneJson, isRecord } from '../util/json.js';
import { deletePointer, getPointer, lastKey } from '../util/json-pointer.js';
import { fieldPath } from './paths.js';
import { error, type Problem } from './problems.js';
import { validateConfig, type SchemaIssue } from './validate.js';
import { firstReleaseRendering, minorOf, v3, type SpecVersion } from './versions.js';

type Rec = Record<string, unknown>;

/**
 * 3.a → 3.b. Upward every valid 3.a config is a valid 3.b one once its version says so (coreos/ignition
 * `docs/migrating-configs.md`: no breaking changes within 3.x). Downward goes one version at a time like
 * coreos/ign-converter (translate/v35tov34 ... v32tov31): a field the lower version lacks is dropped when it
 * carries nothing (null, empty, false, shouldExist: true, as the converters drop nil/false), and refused when
 * set, naming the field and the first OpenShift release that renders the version it needs.
 * `config` must be valid for `from` and free of fields unknown to it.
 */
export function translateV3(config: Rec, from: SpecVersion, to: SpecVersion): { config?: Rec; problems: Problem[] } {
  const current = cloneJson(config);
  const problems: Problem[] = [];
  for (let minor = minorOf(from); minor > minorOf(to); minor--) {
    const lower = v3(minor - 1);
    setVersion(current, lower);
    const issues = validateConfig(current, lower);
    for (const issue of issues) {
      const empty =
        issue.kind === 'unknown-field' && carriesNothing(lastKey(issue.pointer), getPointer(current, issue.pointer));
      if (!empty) problems.push(newerThanTarget(issue, v3(minor), to));
    }
    // Refused fields go too, so that the steps below report every field the target lacks at once. Backwards:
    // ajv reports in document order, so later array entries go first and earlier pointers stay right.
    for (const issue of issues.reverse()) if (issue.pointer !== '') deletePointer(current, issue.pointer);
  }
  if (problems.length > 0) return { problems };
  setVersion(current, to);
  return { config: current, problems };
}

function setVersion(config: Rec, version: SpecVersion): void {
  config.ignition = { ...(isRecord(config.ignition) ? config.ignition : {}), version };
}

function carriesNothing(key: string, value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true;
  // shouldExist defaults to true: false deletes a user or group, which is what matters.
  if (typeof value === 'boolean') return value === (key === 'shouldExist');
  if (Array.isArray(value)) return value.length === 0;
  if (isRecord(value)) return Object.entries(value).every(([k, v]) => carriesNothing(k, v));
  return false;
}

function newerThanTarget(issue: SchemaIssue, needs: SpecVersion, target: SpecVersion): Problem {
  const release = firstReleaseRendering(needs);
  const what =
    issue.kind === 'unknown-field'
      ? `${fieldPath(issue.pointer)} exists only from Ignition ${needs}`
      : `${issue.message.replace(/ in Ignition [\d.]+$/, '')} before Ignition ${needs}`;
  const fix =
    issue.pointer === '/kernelArguments'
      ? `move the arguments to spec.kernelArguments of the MachineConfig (the MCO applies those on every release)`
      : `remove it or write the config without it; Ignition ${needs} is rendered from ${release} on`;
  return error(
    `${what}, and the target version is ${target}`,
    fix,
    `${fieldPath(issue.pointer, true)} needs Ignition ${needs} (${release}+)`,
    issue.pointer,
  );
}
