import { matchesNamespacePattern } from './namespaces.js';
import { defaultPolicy, DEFAULT_WEBHOOK_NAMESPACE } from './presets.js';
import type { PolicyFile } from './schema.js';
import type { Policy } from './types.js';

/**
 * The effective policy: the file's preset (openshift-baremetal when it names none) for what the file leaves out,
 * each field the file sets in its place (lists replace, `ignition` is merged field by field), and the webhook's own
 * namespace excluded whatever `excludedNamespaces` lists: a webhook that reviews its own namespace can block its
 * own recovery. Every command's policy comes from here.
 */
export function mergePolicy(file: PolicyFile, ownNamespace: string = DEFAULT_WEBHOOK_NAMESPACE): Policy {
  const { apiVersion: _a, kind: _k, metadata: _m, ignition, ...fields } = file;
  const base = defaultPolicy(file.preset, ownNamespace);
  const merged: Policy = { ...base, ...fields, ignition: { ...base.ignition, ...ignition } };
  if (merged.excludedNamespaces.some((p) => matchesNamespacePattern(p, ownNamespace))) return merged;
  return { ...merged, excludedNamespaces: [...merged.excludedNamespaces, ownNamespace] };
}
