import ajvDraft04, { type ErrorObject, type ValidateFunction } from 'ajv-draft-04';
import { ignitionV2Schema } from './schemas/v2.js';
import { ignitionV3Schema } from './schemas/v3.js';
import { describeSchemaError } from '../util/schema-errors.js';
import { fieldPath } from './paths.js';
import { minorOf, type InputVersion } from './versions.js';

/** One schema finding: a field Ignition does not know (ignored with a warning), or an invalid value (fatal). */
export interface SchemaIssue {
  kind: 'unknown-field' | 'invalid';
  /** JSON pointer of the offending member inside the Ignition config (for unknown fields: the field itself). */
  pointer: string;
  /** `spec.config.storage.files[0].mode must be a decimal mode from 0 to 4095 (07777)` */
  message: string;
}

// allErrors: report every unknown key and invalid value at once; verbose: errors carry the schema's description.
// A CommonJS module: its class is the `default` member of what ESM imports.
const ajv = new ajvDraft04.default({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
const validators = new Map<InputVersion, ValidateFunction>();

/**
 * One compiled validator per version, built on first use and kept for the life of the process. Not compiled
 * ahead: all nine cost 1.6 s and about 40 MB of RSS at start-up, while a cluster sends one or two versions; the
 * first MachineConfig of a version pays its compile (about 0.2 s) once.
 */
function validatorFor(version: InputVersion): ValidateFunction {
  let fn = validators.get(version);
  if (!fn) {
    fn = ajv.compile(
      version.startsWith('2.') ? ignitionV2Schema(Number(version[2]) as 0 | 1 | 2) : ignitionV3Schema(minorOf(version)),
    );
    validators.set(version, fn);
  }
  return fn;
}

export function validateConfig(config: unknown, version: InputVersion): SchemaIssue[] {
  const validate = validatorFor(version);
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
