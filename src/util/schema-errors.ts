import { escapePointer } from './json-pointer.js';

/** An ajv error, as much of it as a sentence needs (ajv, ajv-draft-04 and Fastify's validation errors share it). */
export interface SchemaError {
  instancePath: string;
  schemaPath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  /** With ajv's `verbose`: the schema holding the failed keyword (its `description` names the value) and the value. */
  parentSchema?: unknown;
  data?: unknown;
}

/**
 * How one reader words its errors. The grammar is shared; what differs is how its users name a field (a JSON
 * Pointer into a policy file with its line, a dotted path into a JSON body, a MachineConfig field) and a few
 * conventions each reader's messages have kept.
 */
export interface SchemaWording {
  /** The field's name from its JSON Pointer ('' is the whole document). */
  field(pointer: string): string;
  /** Between the field and what is wrong with it. */
  separator: ': ' | ' ';
  /** `must be one of: a, b` (policy), `must be one of a, b` (envelope), `must be one of "a", "b"` (Ignition). */
  values: 'colon' | 'bare' | 'json';
  /** `must be a mapping` / `a list` / `a boolean` (policy), or ajv's type names joined by `or` (`integer or null`). */
  types: 'article' | 'plain';
  /** A missing field named whole (`request.uid is required in Ignition 3.2.0`); else ajv's words after the parent. */
  required?: { scope: string };
  /** An unknown field: `unknown field "x"` after its name, or `is not a field of <scope>`. */
  unknown?: { scope: string };
  /** The schema's `description` says what the value must be, and the value is quoted after it (verbose errors). */
  describeValue?: boolean;
}

/** One ajv error as a sentence, and the JSON Pointer of the field it is about (for unknown fields: the field). */
export function describeSchemaError(e: SchemaError, wording: SchemaWording): { pointer: string; message: string } {
  if (e.keyword === 'additionalProperties') {
    const name = String(e.params.additionalProperty);
    const pointer = `${e.instancePath}/${escapePointer(name)}`;
    const field = wording.field(pointer);
    const message = wording.unknown
      ? `${field} is not a field of ${wording.unknown.scope}`
      : `${field}${wording.separator}unknown field "${name}"`;
    return { pointer, message };
  }
  const pointer = e.instancePath;
  if (e.keyword === 'required' && wording.required) {
    const missing = wording.field(`${pointer}/${escapePointer(String(e.params.missingProperty))}`);
    return { pointer, message: `${missing} is required${wording.required.scope}` };
  }
  const description = wording.describeValue
    ? (e.parentSchema as { description?: string } | undefined)?.description
    : undefined;
  const got = wording.describeValue ? ` (got ${brief(e.data)})` : '';
  const phrase = description && e.keyword !== 'type' ? `must be ${description}` : mustBe(e, wording);
  return { pointer, message: `${wording.field(pointer)}${wording.separator}${phrase}${got}` };
}

/** What the value must be, in words that name the expected value (never a bare "must be equal to constant"). */
function mustBe(e: SchemaError, wording: SchemaWording): string {
  switch (e.keyword) {
    case 'enum': {
      const values = e.params.allowedValues as unknown[];
      if (wording.values === 'json') return `must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
      return `must be one of${wording.values === 'colon' ? ':' : ''} ${values.join(', ')}`;
    }
    case 'const':
      return `must be ${JSON.stringify(e.params.allowedValue)}`;
    case 'type':
      return `must be ${[e.params.type]
        .flat()
        .map((t) => typeName(String(t), wording))
        .join(' or ')}`;
    case 'pattern':
      return `must match ${String(e.params.pattern)}`;
    default:
      return e.message ?? 'is invalid';
  }
}

function typeName(type: string, wording: SchemaWording): string {
  if (wording.types === 'plain') return type;
  return type === 'object' ? 'a mapping' : type === 'array' ? 'a list' : type === 'null' ? 'null' : `a ${type}`;
}

/**
 * Of ajv's errors (with `allErrors`), the one a person can act on: within an `anyOf` (null or a mapping), the error
 * of the branch that got furthest into the value (a missing `key`) rather than the first branch's bare type
 * mismatch; an `anyOf` of bare type mismatches stays itself, and reads `must be null or a mapping`.
 */
export function mostSpecificError(errors: readonly SchemaError[]): SchemaError {
  const first = errors[0]!;
  const anyOf = errors.find(
    (e) => e.keyword === 'anyOf' && first.schemaPath.startsWith(`${e.schemaPath.slice(0, -'/anyOf'.length)}/anyOf/`),
  );
  if (!anyOf) return first;
  const branches = errors.filter(
    (e) => e !== anyOf && e.schemaPath.startsWith(anyOf.schemaPath.slice(0, -'anyOf'.length)),
  );
  const deeper = branches.find((e) => e.keyword !== 'type' || e.instancePath !== anyOf.instancePath);
  if (deeper) return deeper;
  // The branches' types as one type error at the anyOf's place.
  return { ...anyOf, keyword: 'type', params: { type: branches.map((e) => e.params.type as string) } };
}

/** The offending value, cut short: a message names it, it does not reprint a whole section. */
function brief(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= 40 ? text : `${text.slice(0, 37)}...`;
}
