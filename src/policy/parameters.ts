import { Ajv, type ValidateFunction } from 'ajv';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { policySchema, type PolicyFile } from './schema.js';
import type { Policy, PresetName } from './types.js';
import { memoByObject } from '../util/memo.js';

/**
 * A rule's parameters: top-level fields of the policy file, each a JSON-schema fragment with its `default` (the
 * value under preset openshift-baremetal). The rule declares them; the composition root hands every rule's
 * declaration to the policy loader, which validates the file against the core schema with the fragments merged in.
 */
export type ParameterSchemas = Readonly<Record<string, JSONSchema & { readonly default: unknown }>>;

/** The parameters' TypeScript types, derived from their fragments (json-schema-to-ts): a parameter is declared once. */
export type ParameterValues<S extends ParameterSchemas> = { -readonly [K in keyof S]: FromSchema<S[K]> };

/** A rule's parameters as the policy loader reads them: the fragments, and what each preset sets. */
export interface ParameterDeclaration {
  readonly schemas: ParameterSchemas;
  /** What each preset sets in place of a default (held to the fragments by the policy tests). */
  readonly presets: Partial<Record<PresetName, Readonly<Record<string, unknown>>>>;
}

/** A declaration with its values typed from its fragments, for the rule that reads them. */
export interface RuleParameters<S extends ParameterSchemas> extends ParameterDeclaration {
  readonly schemas: S;
  /** The values in force under an effective policy: the policy's own, else its preset's, else the default. */
  of(policy: Policy): ParameterValues<S>;
  /** The values of a preset alone, with nothing from a file. */
  preset(name: PresetName): ParameterValues<S>;
}

/** What the policy loader knows of a rule: its ID (valid under `rules:`) and its parameters. */
export interface PolicyRule {
  readonly id: string;
  readonly parameters?: ParameterDeclaration;
}

/** Declares a rule's parameters (`parameters: ruleParameters({...}, { ako: {...} })` in the rule's file). */
export function ruleParameters<const S extends ParameterSchemas>(
  schemas: S,
  presets: ParameterDeclaration['presets'] = {},
): RuleParameters<S> {
  // The engine holds one policy: each is resolved once.
  const of = memoByObject((policy: Policy): Record<string, unknown> => {
    const base = presetValues({ schemas, presets }, policy.preset);
    return Object.fromEntries(
      Object.keys(schemas).map((field) => [field, policy[field] !== undefined ? policy[field] : base[field]]),
    );
  });
  return {
    schemas,
    presets,
    of: of as unknown as RuleParameters<S>['of'],
    preset: ((name: PresetName) => presetValues({ schemas, presets }, name)) as unknown as RuleParameters<S>['preset'],
  };
}

/** Every declared parameter's value under a preset (copies: a caller may not change a default). */
export function presetValues(declaration: ParameterDeclaration, preset: PresetName): Record<string, unknown> {
  const set = declaration.presets[preset];
  return Object.fromEntries(
    Object.entries(declaration.schemas).map(([field, schema]) => [
      field,
      structuredClone(set?.[field] !== undefined ? set[field] : schema.default),
    ]),
  );
}

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validators = new WeakMap<readonly PolicyRule[], ValidateFunction<PolicyFile>>();

/**
 * The validator of the policy file with every rule's parameter fragments merged into the shared schema, compiled
 * once per list of rules. Two declarations of one field, or a parameter named as a shared setting, are a
 * mistake in the rules, not in the file: they throw.
 */
export function policyValidator(rules: readonly PolicyRule[]): ValidateFunction<PolicyFile> {
  let validate = validators.get(rules);
  if (!validate) {
    const properties: Record<string, unknown> = { ...policySchema.properties };
    for (const [field, schema] of rules.flatMap((r) => Object.entries(r.parameters?.schemas ?? {}))) {
      if (Object.hasOwn(properties, field)) throw new Error(`policy field ${field} is declared twice`);
      properties[field] = schema;
    }
    validate = ajv.compile<PolicyFile>({ ...policySchema, properties });
    validators.set(rules, validate);
  }
  return validate;
}
