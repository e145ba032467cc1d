import type { ErrorObject, ValidateFunction } from 'ajv-draft-04';
import * as generated from './generated/validators.js';
import { escapePointer } from '../util/json-pointer.js';
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
  if (e.keyword === 'additionalProperties') {
    const pointer = `${e.instancePath}/${escapePointer(String(e.params.additionalProperty))}`;
    return { kind: 'unknown-field', pointer, message: `${fieldPath(pointer)} is not a field of Ignition ${version}` };
  }
  const path = fieldPath(e.instancePath);
  const description = (e.parentSchema as { description?: string } | undefined)?.description;
  let what: string;
  switch (e.keyword) {
    case 'required':
      return {
        kind: 'invalid',
        pointer: e.instancePath,
        message: `${path}.${String(e.params.missingProperty)} is required in Ignition ${version}`,
      };
    case 'type':
      what = `must be ${[e.params.type].flat().join(' or ')}`;
      break;
    case 'enum':
      what = description
        ? `must be ${description}`
        : `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    default:
      what = description ? `must be ${description}` : (e.message ?? 'is invalid');
  }
  return { kind: 'invalid', pointer: e.instancePath, message: `${path} ${what} (got ${brief(e.data)})` };
}

/** The offending value, cut short: a message names it, it does not reprint a whole section. */
function brief(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= 40 ? text : `${text.slice(0, 37)}...`;
}
