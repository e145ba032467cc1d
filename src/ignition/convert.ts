import { cloneJson, isRecord } from '../util/json.js';
import { deletePointer } from '../util/json-pointer.js';
import { checkConfig } from './checks.js';
import type { Baseline } from './fixed-sections.js';
import { fieldPath } from './paths.js';
import { error, hasErrors, warning, WHOLE_CONFIG, type Problem } from './problems.js';
import { translateV22ToV30, upgradeToV22 } from './translate-v22.js';
import { translateV3 } from './translate-v3.js';
import { validateConfig, type SchemaIssue } from './validate.js';
import { INPUT_VERSIONS, isInputVersion, SPEC_VERSIONS, type InputVersion, type SpecVersion } from './versions.js';

type Rec = Record<string, unknown>;

export interface Conversion {
  /** The version the config declares, when sctp-guard knows it. */
  from?: InputVersion;
  /** The version the config is written in for the cluster. */
  to?: SpecVersion;
  /** The rewritten config, set only when it differs from the input and is valid for `to`. */
  config?: Rec;
  /** The 3.x form the checks read (the MCO's view of the config), when the config got that far. */
  checked?: Rec;
  problems: Problem[];
}

/** Schema errors past this many are counted, not listed: one mistake often breaks a whole section. */
const MAX_LISTED_ERRORS = 5;

/** 3.x configs sctp-guard writes for a 2.2.0 target are 3.0.0: what OpenShift 4.5 also accepts. */
export function outputVersion(from: InputVersion, target: SpecVersion): SpecVersion {
  if (target !== '2.2.0') return target;
  return from.startsWith('2.') ? '2.2.0' : '3.0.0';
}

/**
 * An Ignition config as the MCO would take it, rewritten to `target`: validated against the declared version's
 * schema, translated (2.2 → 3.0 → ... → target, or down from a newer 3.x), validated again against the target's
 * schema, then checked the way the MCO and the machine-config daemon check it. Configs already in the target
 * version are checked and never rewritten.
 */
export function convertConfig(input: unknown, target: SpecVersion, baselines: readonly Baseline[] = []): Conversion {
  if (!isRecord(input)) {
    return {
      problems: [
        error(
          'spec.config is not an object',
          'give spec.config an Ignition config object, or leave spec.config out',
          'spec.config is not an object',
          '',
        ),
      ],
    };
  }
  const declared = isRecord(input.ignition) ? input.ignition.version : undefined;
  if (!isInputVersion(declared)) return { problems: [badVersion(declared, target)] };

  const issues = validateConfig(input, declared);
  const problems = schemaProblems(issues, declared, newerSpecFields(input, declared, issues));
  if (hasErrors(problems)) return { from: declared, problems };
  const legacy = declared === '2.0.0' || declared === '2.1.0';
  const v22 = legacy ? upgradeToV22(withoutUnknownFields(input, issues), declared) : input;

  // Checks read the 3.x form: a 2.x config as the MCO converts it, a 3.x config as it is. What they find is
  // pointed at where the input has it (its line is what `check` prints), not at the converted config.
  let current: Rec;
  let currentVersion: SpecVersion;
  let inInput = (problem: Problem) => problem;
  if (declared.startsWith('2.')) {
    const v30 = translateV22ToV30(v22);
    problems.push(...v30.problems);
    if (!v30.config) return { from: declared, problems };
    current = v30.config;
    currentVersion = '3.0.0';
    inInput = (problem) => ({ ...problem, pointer: v30.sourcePointer(problem.pointer) });
  } else {
    current = withoutUnknownFields(input, issues);
    currentVersion = declared as SpecVersion;
  }

  const to = outputVersion(declared, target);
  let written: Rec | undefined = legacy && to === '2.2.0' ? v22 : undefined;
  if (to !== declared && !written) {
    const translated = translateV3(current, currentVersion, to);
    problems.push(...translated.problems.map(inInput));
    if (!translated.config) return { from: declared, to, problems };
    const invalid = validateConfig(translated.config, to).filter((i) => i.kind === 'invalid');
    if (invalid.length > 0) {
      problems.push(
        inInput(
          error(
            `the config translated from ${declared} to ${to} is not valid Ignition ${to}: ${invalid[0]!.message}`,
            `write the config in Ignition ${to}`,
            `translation to Ignition ${to} gives an invalid config`,
            invalid[0]!.pointer,
          ),
        ),
      );
      return { from: declared, to, problems };
    }
    written = translated.config;
    current = translated.config;
  }
  problems.push(...checkConfig(current, baselines).map(inInput));
  return { from: declared, to, config: written, checked: current, problems };
}

function badVersion(declared: unknown, target: SpecVersion): Problem {
  const supported = INPUT_VERSIONS.join(', ');
  if (declared === undefined || declared === null || declared === '') {
    return error(
      `spec.config has no ignition.version: the MCO refuses it ("parsing Ignition config failed: invalid version"); supported versions: ${supported}`,
      `set spec.config.ignition.version (the cluster renders ${target})`,
      'spec.config.ignition.version is missing',
      WHOLE_CONFIG,
    );
  }
  return error(
    `spec.config.ignition.version ${JSON.stringify(declared)} is not a spec version the MCO accepts ("unknown version"); supported versions: ${supported}`,
    `write the config in one of these versions (the cluster renders ${target})`,
    `unknown Ignition version ${JSON.stringify(declared)}; supported: 2.0.0–2.2.0, 3.0.0–3.5.0`,
    WHOLE_CONFIG,
  );
}

/**
 * The unknown fields of a config that a newer version of its spec family knows: the author most likely meant them,
 * and the declared version drops them. Any other unknown key (a 2.x `filesystem: root` left in a 3.x config, an
 * empty `networkd: {}`) is dropped just as silently by the MCO, which never shows Ignition's non-fatal report, and
 * the MCO's own e2e configs carry such keys: sctp-guard stays silent about them too.
 */
function newerSpecFields(config: Rec, declared: InputVersion, issues: SchemaIssue[]): Set<string> {
  const newest: SpecVersion = declared.startsWith('2.') ? '2.2.0' : SPEC_VERSIONS[SPEC_VERSIONS.length - 1]!;
  const unknown = issues.filter((i) => i.kind === 'unknown-field');
  if (unknown.length === 0 || declared === newest) return new Set();
  const stillUnknown = new Set(
    validateConfig({ ...config, ignition: { ...(config.ignition as Rec), version: newest } }, newest)
      .filter((i) => i.kind === 'unknown-field')
      .map((i) => i.pointer),
  );
  return new Set(unknown.map((i) => i.pointer).filter((p) => !stillUnknown.has(p)));
}

function schemaProblems(issues: SchemaIssue[], version: InputVersion, newer: ReadonlySet<string>): Problem[] {
  const out: Problem[] = [];
  const invalid = issues.filter((i) => i.kind === 'invalid');
  for (const issue of invalid.slice(0, MAX_LISTED_ERRORS)) {
    out.push(
      error(
        `${issue.message}: Ignition ${version} refuses the config, and so does the MCO`,
        'correct the field',
        issue.message,
        issue.pointer,
      ),
    );
  }
  if (invalid.length > MAX_LISTED_ERRORS) {
    out.push(
      error(
        `and ${invalid.length - MAX_LISTED_ERRORS} more schema errors in spec.config`,
        'correct the fields',
        `${invalid.length - MAX_LISTED_ERRORS} more schema errors`,
        // The first of those not listed.
        invalid[MAX_LISTED_ERRORS]!.pointer,
      ),
    );
  }
  for (const issue of issues.filter((i) => i.kind === 'unknown-field' && newer.has(i.pointer))) {
    out.push(
      warning(
        `${issue.message} (a newer spec has it): Ignition ${version} ignores it, so it has no effect on the nodes`,
        'write the config in the spec version that has the field, or remove it',
        `${fieldPath(issue.pointer, true)} is not in Ignition ${version}; ignored`,
        issue.pointer,
      ),
    );
  }
  return out;
}

/** A copy without the keys the declared version does not know: the MCO's parser drops them too. */
function withoutUnknownFields(config: Rec, issues: SchemaIssue[]): Rec {
  const unknown = issues.filter((i) => i.kind === 'unknown-field');
  if (unknown.length === 0) return config;
  const copy = cloneJson(config);
  for (const issue of unknown) deletePointer(copy, issue.pointer);
  return copy;
}
