import { readFileSync } from 'node:fs';
import { defaultPolicy, DEFAULT_WEBHOOK_NAMESPACE } from './presets.js';
import { validatePolicyFile } from './schema.js';
import type { Policy, PresetName } from './types.js';
import { FileLineError, parseYamlDocumentsAs } from '../input/yaml.js';

/** A policy file that cannot be used, with the file and line of the problem. */
export class PolicyError extends FileLineError {}

export interface LoadPolicyOptions {
  /** The IDs of the rules the product has: `rules:` may name only these (the composition root passes them). */
  ruleIds: readonly string[];
  webhookNamespace?: string;
}

/** Reads and validates a policy file; with no file the default policy (preset openshift-baremetal) applies. */
export function loadPolicy(file: string | undefined, options: LoadPolicyOptions): Policy {
  if (!file) return defaultPolicy('openshift-baremetal', options.webhookNamespace ?? DEFAULT_WEBHOOK_NAMESPACE);
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
  const raw = (doc?.value ?? {}) as Record<string, unknown>;
  if (!validatePolicyFile(raw)) {
    const e = validatePolicyFile.errors![0]!;
    const pointer = e.keyword === 'additionalProperties' ? `${e.instancePath}/${String(e.params.additionalProperty)}` : e.instancePath;
    const where = pointer || '(top level)';
    const detail =
      e.keyword === 'additionalProperties'
        ? `unknown field "${String(e.params.additionalProperty)}"`
        : e.keyword === 'enum'
          ? `${e.message}: ${(e.params.allowedValues as unknown[]).join(', ')}`
          : e.message ?? 'invalid';
    throw new PolicyError(file, doc?.lineOf(pointer) ?? 1, `policy field ${where}: ${detail}`);
  }
  for (const id of Object.keys((raw.rules as object | undefined) ?? {})) {
    if (!options.ruleIds.includes(id)) {
      throw new PolicyError(file, doc!.lineOf(`/rules/${id}`), `unknown rule "${id}"; known rules: ${options.ruleIds.join(', ')}`);
    }
  }
  const base = defaultPolicy((raw.preset as PresetName | undefined) ?? 'openshift-baremetal', options.webhookNamespace ?? DEFAULT_WEBHOOK_NAMESPACE);
  const { apiVersion: _a, kind: _k, metadata: _m, ...fields } = raw;
  return { ...base, ...(fields as Partial<Policy>), ignition: { ...base.ignition, ...((fields.ignition as object | undefined) ?? {}) } };
}
