import { readFileSync } from 'node:fs';
import { mergePolicy } from './merge.js';
import { policyValidator, type PolicyRule } from './parameters.js';
import type { Policy } from './types.js';
import { FileLineError, parseYamlDocumentsAs } from '../input/yaml.js';
import { getPointer } from '../util/json-pointer.js';
import { describeSchemaError, mostSpecificError, type SchemaError, type SchemaWording } from '../util/schema-errors.js';

/** A policy file that cannot be used, with the file and line of the problem. */
export class PolicyError extends FileLineError {}

export interface LoadPolicyOptions {
  /**
   * The rules the product has (the composition root passes them): `rules:` may name only these, and their
   * parameters are fields of the file.
   */
  rules: readonly PolicyRule[];
  /** The namespace the webhook runs in: always excluded (sctp-guard when left out). */
  webhookNamespace?: string;
}

/** Reads and validates a policy file; with no file the default policy (preset openshift-baremetal) applies. */
export function loadPolicy(file: string | undefined, options: LoadPolicyOptions): Policy {
  if (!file) return mergePolicy({}, options.webhookNamespace, options.rules);
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
  const validate = policyValidator(options.rules);
  if (!validate(raw)) {
    const e = mostSpecificError(validate.errors!);
    const { pointer, message } = describeSchemaError(e, POLICY_WORDING);
    throw new PolicyError(file, doc?.lineOf(pointer) ?? 1, `${message}${booleanHint(e, getPointer(raw, pointer))}`);
  }
  const ids = options.rules.map((r) => r.id);
  for (const id of Object.keys(raw.rules ?? {})) {
    if (!ids.includes(id)) {
      throw new PolicyError(file, doc!.lineOf(`/rules/${id}`), `unknown rule "${id}"; known rules: ${ids.join(', ')}`);
    }
  }
  return mergePolicy(raw, options.webhookNamespace, options.rules);
}

const POLICY_WORDING: SchemaWording = {
  field: (pointer) => `policy field ${pointer || '(top level)'}`,
  separator: ': ',
  values: 'colon',
  types: 'article',
};

/**
 * The policy is YAML 1.1 (as kubectl reads manifests): an unquoted `off`, `no`, `on` or `yes` is a boolean, so
 * `enforcement: off` reaches the schema as false. Said plainly, with the form that works.
 */
function booleanHint(e: SchemaError, value: unknown): string {
  if (e.keyword !== 'enum' || typeof value !== 'boolean') return '';
  return `; YAML 1.1 reads an unquoted off, no, on or yes as ${value}: quote the word, e.g. enforcement: "off"`;
}
