/** The repository root, found by walking up from this file: tests run built, from dist-test/test/ or dist/test/. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const REPO_ROOT = packageRoot(dirname(fileURLToPath(import.meta.url)));

/** A path in the repository, from its root. */
export const repoPath = (...parts: string[]): string => join(REPO_ROOT, ...parts);
