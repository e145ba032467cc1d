/** `openshift-*` matches every namespace with that prefix; anything else must match exactly. */
export function matchesNamespacePattern(pattern: string, namespace: string): boolean {
  return pattern.endsWith('*') ? namespace.startsWith(pattern.slice(0, -1)) : pattern === namespace;
}

/** matchesNamespacePattern against every pattern of a list, the list split once into exact names and prefixes. */
export function namespaceMatcher(patterns: readonly string[]): (namespace: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return (namespace) => exact.has(namespace) || prefixes.some((p) => namespace.startsWith(p));
}
