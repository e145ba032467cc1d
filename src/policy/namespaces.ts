/** `openshift-*` matches every namespace with that prefix; anything else must match exactly. */
export function matchesNamespacePattern(pattern: string, namespace: string): boolean {
  return pattern.endsWith('*') ? namespace.startsWith(pattern.slice(0, -1)) : pattern === namespace;
}

/**
 * The policy with the webhook's own namespace excluded, whatever its `excludedNamespaces` lists: a webhook that
 * reviews its own namespace can block its own recovery (and the README promises it never does).
 */
export function excludeOwnNamespace<P extends { excludedNamespaces: string[] }>(policy: P, ownNamespace: string): P {
  if (policy.excludedNamespaces.some((p) => matchesNamespacePattern(p, ownNamespace))) return policy;
  return { ...policy, excludedNamespaces: [...policy.excludedNamespaces, ownNamespace] };
}
