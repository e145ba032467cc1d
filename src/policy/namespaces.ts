/** `openshift-*` matches every namespace with that prefix; anything else must match exactly. */
export function matchesNamespacePattern(pattern: string, namespace: string): boolean {
  return pattern.endsWith('*') ? namespace.startsWith(pattern.slice(0, -1)) : pattern === namespace;
}

