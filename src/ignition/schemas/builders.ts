/**
 * Small constructors for the Ignition JSON schemas. Upstream's schemas (coreos/ignition
 * `config/v3_N/schema/ignition.json` and the 2.x `schema/ignition.json`, draft-04) only give types; the Go
 * validators add the rest (absolute paths, mode range, URL schemes, hash forms, unit name suffixes). The schemas here carry both, and close every object
 * (`additionalProperties: false`) so that a key a spec version does not know is reported: Ignition ignores such a
 * key with a warning, so it is a warning here too, never a denial.
 */
export type Schema = Record<string, unknown>;

export const DRAFT_04 = 'http://json-schema.org/draft-04/schema#';

export const str: Schema = { type: 'string' };
export const strOrNull: Schema = { type: ['string', 'null'] };
export const bool: Schema = { type: 'boolean' };
export const boolOrNull: Schema = { type: ['boolean', 'null'] };
export const int: Schema = { type: 'integer' };
export const intOrNull: Schema = { type: ['integer', 'null'] };
export const strings: Schema = { type: 'array', items: str };

export function arrayOf(items: Schema): Schema {
  return { type: 'array', items };
}

/** A closed object; `nullable` for the few objects upstream allows as `null`. */
export function object(
  properties: Record<string, Schema | undefined>,
  required: string[] = [],
  nullable = false,
): Schema {
  const props = Object.fromEntries(Object.entries(properties).filter((e): e is [string, Schema] => e[1] !== undefined));
  return {
    type: nullable ? ['object', 'null'] : 'object',
    additionalProperties: false,
    properties: props,
    ...(required.length > 0 ? { required } : {}),
  };
}

/** `path.IsAbs` (every version) and, from 3.0, `path.Clean(p) == p` (ErrPathRelative, ErrDirtyPath). */
export const absolutePath: Schema = { type: 'string', pattern: '^/', description: 'an absolute path' };
export const cleanAbsolutePath: Schema = {
  type: 'string',
  pattern: '^(?:/|(?:/(?!\\.\\.?(?:/|$))[^/]+)+)$',
  description: 'an absolute path without //, /./, /../ or a trailing /',
};

/** validateMode: 0 to 07777 (ErrFileIllegalMode); the MCO narrows files to 0777 (checked apart, with its message). */
export const mode: Schema = {
  type: ['integer', 'null'],
  minimum: 0,
  maximum: 0o7777,
  description: 'a decimal mode from 0 to 4095 (07777)',
};

/** Resource.validateCompression: none or gzip (ErrCompressionInvalid). */
export function compression(nullable: boolean): Schema {
  return {
    type: nullable ? ['string', 'null'] : 'string',
    enum: nullable ? ['', 'gzip', null] : ['', 'gzip'],
    description: '"gzip" or empty',
  };
}

/** Verification.Hash: `sha512-<hex>`, and from 3.1 `sha256-<hex>` (ErrHashMalformed, ErrHashWrongSize). */
export function verification(sha256: boolean): Schema {
  const pattern = sha256 ? '^(?:sha512-[0-9A-Fa-f]{128}|sha256-[0-9A-Fa-f]{64})$' : '^sha512-[0-9A-Fa-f]{128}$';
  const description = sha256 ? 'sha512-<128 hex digits> or sha256-<64 hex digits>' : 'sha512-<128 hex digits>';
  return object({ hash: { type: ['string', 'null'], pattern, description } });
}

/** validateURL: the schemes a version fetches from (ErrInvalidScheme); an empty source means no contents. */
export function url(schemes: string[], nullable: boolean): Schema {
  return {
    type: nullable ? ['string', 'null'] : 'string',
    pattern: `^(?:$|(?:${schemes.join('|')}):)`,
    description: `a URL with scheme ${schemes.map((s) => s.replace('s?', '(s)')).join(', ')}`,
  };
}

/** Unit.ValidateName: systemd unit types Ignition knows (ErrInvalidSystemdExt). */
export const unitName: Schema = {
  type: 'string',
  pattern: '\\.(?:service|socket|device|mount|automount|swap|target|path|timer|snapshot|slice|scope)$',
  description: 'a unit name ending in a systemd unit type (.service, .timer, .mount ...)',
};

/** Dropin.Validate: drop-ins end in `.conf` (ErrInvalidSystemdDropinExt). */
export const dropinName: Schema = {
  type: 'string',
  pattern: '\\.conf$',
  description: 'a drop-in name ending in .conf',
};
