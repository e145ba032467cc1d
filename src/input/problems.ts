/** Input that is not a usable Kubernetes object, or a file skipped on purpose; `line` 0: the whole file. */
export interface InputProblem {
  file: string;
  line: number;
  message: string;
}

/** What a skipped file or document is, to count skips by class on the summary line. */
export type SkipClass =
  | 'empty'
  | 'not an object'
  | 'kustomize file'
  | 'kustomize patch'
  | 'Helm chart file'
  | 'template'
  | 'CI file'
  | 'Compose file'
  | 'installer config'
  | 'test data'
  | 'kube-compare reference'
  | 'ZTP source CR'
  | 'sctp-guard policy'
  | 'unreadable';

/**
 * A file or document that was not checked, and why. `mayHideObjects`: it may hold objects that were not checked (a
 * template YAML cannot parse, a file that could not be read), so it never passes silently (`--allow-skipped`).
 */
export interface Skip extends InputProblem {
  class: SkipClass;
  mayHideObjects?: boolean;
}

export function formatLocation(file: string, line: number): string {
  return line > 0 ? `${file}:${line}` : file;
}

export function formatProblem(p: InputProblem): string {
  return `${formatLocation(p.file, p.line)}: ${p.message}`;
}

/** `12 skipped (5 kustomize patch, 4 Helm chart file, …)`: the classes counted, most frequent first. */
export function skipCounts(skips: readonly Skip[]): string {
  if (skips.length === 0) return '';
  const by = new Map<SkipClass, number>();
  for (const s of skips) by.set(s.class, (by.get(s.class) ?? 0) + 1);
  const parts = [...by].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([c, n]) => `${n} ${c}`);
  return `${skips.length} skipped (${parts.join(', ')})`;
}
