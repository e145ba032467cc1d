import { readFileSync } from 'node:fs';
import type { ErrorObject } from 'ajv';
import { mergePolicy } from './merge.js';
import { validatePolicyFile } from './schema.js';
import type { Policy } from './types.js';
import { FileLineError, parseYamlDocumentsAs } from '../input/yaml.js';
import { getPointer } from '../util/json-pointer.js';

/** A policy file that cannot be used, with the file and line of the problem. */
export class PolicyError extends FileLineError {}

export interface LoadPolicyOptions {
  /** The IDs of the rules the product has: `rules:` may name only these (the composition root passes them). */
  ruleIds: readonly string[];
  /** The namespace the webhook runs in: always excluded (sctp-guard when left out). */
  webhookNamespace?: string;
}

/** Reads and validates a policy file; with no file the default policy (preset openshift-baremetal) applies. */
export function loadPolicy(file: string | undefined, options: LoadPolicyOptions): Policy {
  if (!file) return mergePolicy({}, options.webhookNamespace);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyError(file, 0, `cannot read the policy file: ${(err as Error).message}`);
  }
  return parsePolicy(text, file, options);
}

export function parsePolicy(text: string, file: string, options: LoadPolicyOptions): Policy {
  const docs = parseYamlDocumentsAs(text, file, PolicyError);
  if (docs.length > 1) throw new PolicyError(file, docs[1]!.line, 'a policy file holds one YAML document');
  const doc = docs[0];
  const raw: unknown = doc?.value ?? {};
  if (!validatePolicyFile(raw)) {
    const e = mostSpecific(validatePolicyFile.errors!);
    const pointer =
      e.keyword === 'additionalProperties'
        ? `${e.instancePath}/${String(e.params.additionalProperty)}`
        : e.instancePath;
    const where = pointer || '(top level)';
    throw new PolicyError(
      file,
      doc?.lineOf(pointer) ?? 1,
      `policy field ${where}: ${expected(e, validatePolicyFile.errors!)}${booleanHint(e, getPointer(raw, pointer))}`,
    );
  }
  for (const id of Object.keys(raw.rules ?? {})) {
    if (!options.ruleIds.includes(id)) {
      throw new PolicyError(
        file,
        doc!.lineOf(`/rules/${id}`),
        `unknown rule "${id}"; known rules: ${options.ruleIds.join(', ')}`,
      );
    }
  }
  return mergePolicy(raw, options.webhookNamespace);
}

/**
 * Of ajv's errors, the one a person can act on: within an `anyOf` (null or a mapping), the error of the branch that
 * got furthest into the value (a missing `key`) rather than the first branch's bare type mismatch.
 */
function mostSpecific(errors: readonly ErrorObject[]): ErrorObject {
  const first = errors[0]!;
  const anyOf = errors.find(
    (e) => e.keyword === 'anyOf' && first.schemaPath.startsWith(`${e.schemaPath.slice(0, -'/anyOf'.length)}/anyOf/`),
  );
  if (!anyOf) return first;
  const branches = errors.filter(
    (e) => e !== anyOf && e.schemaPath.startsWith(anyOf.schemaPath.slice(0, -'anyOf'.length)),
  );
  return branches.find((e) => e.keyword !== 'type' || e.instancePath !== anyOf.instancePath) ?? anyOf;
}

/**
 * The policy is YAML 1.1 (as kubectl reads manifests): an unquoted `off`, `no`, `on` or `yes` is a boolean, so
 * `enforcement: off` reaches the schema as false. Said plainly, with the form that works.
 */
function booleanHint(e: ErrorObject, value: unknown): string {
  if (e.keyword !== 'enum' || typeof value !== 'boolean') return '';
  return `; YAML 1.1 reads an unquoted off, no, on or yes as ${value}: quote the word, e.g. enforcement: "off"`;
}

/** What the field must be, in words that name the expected value (never a bare "must be equal to constant"). */
function expected(e: ErrorObject, all: readonly ErrorObject[]): string {
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown field "${String(e.params.additionalProperty)}"`;
    case 'enum':
      return `must be one of: ${(e.params.allowedValues as unknown[]).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(e.params.allowedValue)}`;
    case 'anyOf': {
      const types = all
        .filter((x) => x.keyword === 'type' && x.schemaPath.startsWith(e.schemaPath))
        .map((x) => (x.params.type === 'object' ? 'a mapping' : String(x.params.type)));
      return `must be ${types.join(' or ')}`;
    }
    case 'type':
      return `must be ${e.params.type === 'object' ? 'a mapping' : e.params.type === 'array' ? 'a list' : `a ${String(e.params.type)}`}`;
    case 'pattern':
      return `must match ${String(e.params.pattern)}`;
    default:
      return e.message ?? 'invalid';
  }
}
