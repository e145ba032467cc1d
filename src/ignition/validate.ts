import type { ErrorObject, ValidateFunction } from 'ajv-draft-04';
import * as generated from './generated/validators.js';
import { describeSchemaError } from '../util/schema-errors.js';
import { fieldPath } from './paths.js';
import { INPUT_VERSIONS, type InputVersion } from './versions.js';

/** One schema finding: a field Ignition does not know (ignored with a warning), or an invalid value (fatal). */
export interface SchemaIssue {
  kind: 'unknown-field' | 'invalid';
  /** JSON pointer of the offending member inside the Ignition config (for unknown fields: the field itself). */
  pointer: string;
  /** `spec.config.storage.files[0].mode must be a decimal mode from 0 to 4095 (07777)` */
  message: string;
}

/** The export of a version in the generated module: 3.2.0 → v3_2_0. */
export function exportName(version: InputVersion): string {
  return `v${version.replaceAll('.', '_')}`;
}

/**
 * The validators as ajv standalone code generated at build time from ./schemas (`npm run generate:validators`):
 * no compilation at run time. V8 compiles a version's validator (about 10 ms) the first time it runs; `serve`
 * runs them all once at start (warmValidators) so that no request pays it.
 */
const validators = new Map(
  INPUT_VERSIONS.map((v) => [v, (generated as unknown as Record<string, ValidateFunction>)[exportName(v)]!]),
);

function validatorFor(version: InputVersion): ValidateFunction {
  return validators.get(version)!;
}

/** Runs every version's validator once, so that V8 has compiled them before the first MachineConfig arrives. */
export function warmValidators(): void {
  for (const validate of validators.values()) validate({});
}

export function validateConfig(config: unknown, version: InputVersion): SchemaIssue[] {
  return issuesOf(validatorFor(version), config, version);
}

/** The issues of one run of a validator (the generated one, or in tests one compiled at run time). */
export function issuesOf(validate: ValidateFunction, config: unknown, version: InputVersion): SchemaIssue[] {
  if (validate(config)) return [];
  return (validate.errors ?? []).map((e) => toIssue(e, version));
}

function toIssue(e: ErrorObject, version: InputVersion): SchemaIssue {
  const { pointer, message } = describeSchemaError(e, {
    field: (pointer) => fieldPath(pointer),
    separator: ' ',
    values: 'json',
    types: 'plain',
    required: { scope: ` in Ignition ${version}` },
    unknown: { scope: `Ignition ${version}` },
    describeValue: true,
  });
  return { kind: e.keyword === 'additionalProperties' ? 'unknown-field' : 'invalid', pointer, message };
}
