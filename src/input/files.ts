import { readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, extname, join, normalize, relative, sep } from 'node:path';
import { minimatch } from 'minimatch';
import type { InputProblem, Skip } from './problems.js';

/** The path that means "read standard input" (`kubectl apply -f -`, `kustomize build | sctp-guard check -f -`). */
export const STDIN_PATH = '-';
/** How stdin is named in messages. */
export const STDIN_NAME = '<stdin>';

/** Extensions read when a folder is given (kubectl's `-R`). A file named explicitly is read whatever its name. */
const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
const GLOB_CHARS = /[*?[\]{}]/;

/** One input to read (stdin, or a file found under `root`, the path given on the command line), or a path that cannot be, in the order given. */
export type FoundInput =
  | { stdin: true }
  | { stdin?: false; path: string; root: string }
  | { stdin?: false; problem: InputProblem }
  | { stdin?: false; skipped: Skip };

export interface Discovery {
  inputs: FoundInput[];
  /** `--exclude` patterns that left nothing out (a typo, or a path that is relative to something else). */
  unusedExcludes: string[];
}

/**
 * Files, folders (recursively: *.yaml, *.yml, *.json, in name order, dot-folders left out), quoted globs (expanded as
 * a shell would) and `-` for stdin, in the order given. `exclude` globs leave paths out: a glob without `/` matches
 * a file or folder name anywhere; one with `/` matches the path as given or relative to the folder given (so
 * `./ztp/**` works for `check repo/`).
 */
export function discoverInputs(paths: readonly string[], exclude: readonly string[] = []): Discovery {
  const out: Discovery = { inputs: [], unusedExcludes: [] };
  const exclusion = new Exclusion(exclude);
  for (const path of paths) {
    if (path === STDIN_PATH) {
      out.inputs.push({ stdin: true });
      continue;
    }
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && GLOB_CHARS.test(path)) {
        const matches = globMatches(path, exclusion);
        if (matches.length === 0)
          out.inputs.push({ problem: { file: path, line: 0, message: 'no file or folder matches this pattern' } });
        for (const m of matches) addPath(out, m.path, m.isDir, m.path, exclusion);
        continue;
      }
      out.inputs.push({ problem: { file: path, line: 0, message: `cannot read: ${code ?? (err as Error).message}` } });
      continue;
    }
    if (exclusion.excludes(path, isDir, path)) continue;
    addPath(out, path, isDir, path, exclusion);
  }
  out.unusedExcludes = exclusion.unused();
  return out;
}

class Exclusion {
  private readonly used = new Set<string>();
  private readonly globs: Array<{ given: string; glob: string; base: boolean }>;

  constructor(globs: readonly string[]) {
    this.globs = globs.map((given) => ({
      given,
      glob: normalize(given).split(sep).join('/').replace(/\/$/, '/**'),
      base: !given.includes('/'),
    }));
  }

  excludes(path: string, isDir: boolean, root: string): boolean {
    if (this.globs.length === 0) return false;
    const asGiven = toSlashes(path);
    const rel = toSlashes(relative(root, path));
    const candidates = new Set([asGiven, ...(rel && !rel.startsWith('..') ? [rel] : [])]);
    if (isDir) for (const c of [...candidates]) candidates.add(`${c}/`);
    const hit = this.globs.find((g) =>
      [...candidates].some((c) => minimatch(c, g.glob, { dot: true, matchBase: g.base })),
    );
    if (hit) this.used.add(hit.given);
    return hit !== undefined;
  }

  unused(): string[] {
    return this.globs.map((g) => g.given).filter((g) => !this.used.has(g));
  }
}

function toSlashes(path: string): string {
  return normalize(path).split(sep).join('/');
}

function addPath(out: Discovery, path: string, isDir: boolean, root: string, exclusion: Exclusion): void {
  if (!isDir) {
    out.inputs.push({ path, root });
    return;
  }
  const files = manifestFilesIn(path, root, exclusion);
  if (files.length === 0)
    out.inputs.push({
      skipped: {
        file: path,
        line: 0,
        message: 'skipped: the folder holds no *.yaml, *.yml or *.json file',
        class: 'empty',
      },
    });
  for (const file of files) out.inputs.push({ path: file, root });
}

/** What a shell would expand an unquoted glob to, walking from its first literal folder; dot-entries only when named. */
function globMatches(pattern: string, exclusion: Exclusion): Array<{ path: string; isDir: boolean }> {
  const parts = pattern.split('/');
  const literal = parts.findIndex((p) => GLOB_CHARS.test(p));
  const base = parts.slice(0, literal).join('/') || (pattern.startsWith('/') ? '/' : '.');
  const out: Array<{ path: string; isDir: boolean }> = [];
  walk(base, base, exclusion, (path, isDir) => {
    if (minimatch(path, pattern, { dot: false })) {
      out.push({ path, isDir });
      return false;
    }
    return isDir;
  });
  return out;
}

/** Files under `dir` with a manifest's extension, in name order (folders first-depth, as `ls -R` lists them). */
function manifestFilesIn(dir: string, root: string, exclusion: Exclusion): string[] {
  const out: string[] = [];
  walk(dir, root, exclusion, (path, isDir) => {
    if (!isDir && MANIFEST_EXTENSIONS.has(extname(path).toLowerCase())) out.push(path);
    return isDir;
  });
  return out;
}

/**
 * Depth first in name order, with a stack rather than recursion (the depth of a tree is the input's to choose).
 * `visit` says whether to go into a folder; dot-folders (.git, .github) are never entered, and a real path already
 * walked is not walked again, so a symlink loop ends.
 */
function walk(dir: string, root: string, exclusion: Exclusion, visit: (path: string, isDir: boolean) => boolean): void {
  const seen = new Set<string>();
  const expand = (current: string): string[] => {
    const real = realpathOrUndefined(current);
    if (real === undefined || seen.has(real)) return [];
    seen.add(real);
    return sortedEntries(current)
      .map((e) => (current === '.' ? e : join(current, e)))
      .reverse();
  };
  const pending = expand(dir);
  while (pending.length > 0) {
    const path = pending.pop()!;
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat || exclusion.excludes(path, stat.isDirectory(), root)) continue;
    const isDir = stat.isDirectory();
    if (visit(path, isDir) && isDir && !basename(path).startsWith('.'))
      for (const next of expand(path)) pending.push(next);
  }
}

function sortedEntries(dir: string): string[] {
  try {
    return readdirSync(dir).sort((a, b) => a.localeCompare(b));
  } catch {
    return [];
  }
}

function realpathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}
