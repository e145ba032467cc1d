import { matchesNamespacePattern } from './namespaces.js';
import { presetValues, type PolicyRule } from './parameters.js';
import { defaultPolicy, DEFAULT_WEBHOOK_NAMESPACE } from './presets.js';
import type { PolicyFile } from './schema.js';
import type { Policy } from './types.js';

/**
 * The effective policy: the file's preset (openshift-baremetal when it names none) for what the file leaves out,
 * shared settings and the rules' `parameters` alike, each field the file sets in its place (lists replace,
 * `ignition` is merged field by field), and the webhook's own namespace excluded whatever `excludedNamespaces`
 * lists: a webhook that reviews its own namespace can block its own recovery. Every command's policy comes from here.
 */
export function mergePolicy(
  file: PolicyFile,
  ownNamespace: string = DEFAULT_WEBHOOK_NAMESPACE,
  rules: readonly PolicyRule[] = [],
): Policy {
  const { apiVersion: _a, kind: _k, metadata: _m, ignition, ...fields } = file;
  const base = defaultPolicy(file.preset, ownNamespace);
  const preset = Object.assign(
    {},
    ...rules.map((r) => (r.parameters ? presetValues(r.parameters, base.preset) : {})),
  ) as Record<string, unknown>;
  const merged: Policy = { ...base, ...preset, ...fields, ignition: { ...base.ignition, ...ignition } };
  if (merged.excludedNamespaces.some((p) => matchesNamespacePattern(p, ownNamespace))) return merged;
  return { ...merged, excludedNamespaces: [...merged.excludedNamespaces, ownNamespace] };
}
